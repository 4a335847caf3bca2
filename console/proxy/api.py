"""The connection proxy in Polytomic's shapes: POST /api/connections/{id}/proxy, GET .../proxy/info,
GET/PUT .../proxy/settings (admins only, console/permissions.py)."""

from datetime import datetime
from typing import Any
from uuid import UUID

from ninja import Field, Router, Schema

from console.api.errors import ApiError, api_error_response
from console.api.schemas import ERRORS, Envelope
from console.connections.api import own_connection

from . import services

router = Router(tags=["Connection proxy"])


class ProxyCallIn(Schema):
    method: str
    path: str
    api: str | None = None
    body: Any = None
    headers: dict[str, Any] | None = None
    query: dict[str, Any] | None = None
    rawQuery: str | None = None


class ProxyIn(Schema):
    request: ProxyCallIn
    async_: bool = Field(False, alias="async")


class ProxyAnswer(Schema):
    status: int
    headers: dict[str, str | None]
    contentType: str | None = None
    body: str | None = None
    latencyMs: int
    proxyCallId: str
    truncated: bool


class LockedHeader(Schema):
    name: str
    value: str
    redacted: bool


class InheritedBase(Schema):
    baseUrl: str
    lockedHeaders: list[LockedHeader]
    lockedQuery: dict[str, Any]


class MergeRules(Schema):
    headers: str
    query: str


class RequestContract(Schema):
    allowedMethods: list[str]
    blockedRequestHeaders: list[str]
    blockedResponseHeaders: list[str]
    bodyTypes: list[str]
    maxRequestBodyBytes: int
    maxResponseBodyBytes: int
    pathRule: str
    queryModes: list[str]
    queryValueTypes: list[str]
    rateLimitPerMinute: int
    rawQueryRule: str
    timeoutMs: int


class ProxyStats(Schema):
    proxyCallsLast24h: int
    proxy2xxLast24h: int
    proxy4xxLast24h: int
    proxy5xxLast24h: int
    lastProxyCallAt: datetime | None = None


class ProxyInfo(Schema):
    backendType: str
    connectionId: str
    inheritedBase: InheritedBase
    mergeRules: MergeRules
    requestContract: RequestContract
    stats: ProxyStats


class ProxySettingsOut(Schema):
    backendType: str
    connectionId: str
    parentConnectionId: str | None = None
    enabled: bool
    supported: bool


class ProxySettingsIn(Schema):
    enabled: bool
    allowed_methods: list[str] | None = None


def refusal(error: services.ProxyRefused):
    metadata = {"errors": [{"field": error.field, "message": str(error)}]} if error.field else {}
    response = api_error_response(ApiError(error.status, str(error), key=error.key, metadata=metadata))
    if error.retry_after:
        response["Retry-After"] = str(error.retry_after)
    return response


def settings_out(connection) -> dict:
    return {"backendType": connection.type, "connectionId": str(connection.pk),
            "parentConnectionId": str(connection.parent_id) if connection.parent_id else None,
            "enabled": services.settings_of(connection).enabled, "supported": services.supported(connection)}


@router.post("/connections/{id}/proxy", response={200: Envelope(ProxyAnswer), **ERRORS, 502: dict, 504: dict},
             summary="Send one request to the provider with the connection's credentials")
def execute_proxy(request, id: UUID, payload: ProxyIn):
    connection = own_connection(request, id)
    if payload.async_:
        return refusal(services.refused("async", "asynchronous proxy calls are not offered; leave async out"))
    try:
        return {"data": services.execute(connection, payload.request.dict(exclude_unset=True))}
    except services.ProxyRefused as error:
        return refusal(error)


@router.get("/connections/{id}/proxy/info", response={200: Envelope(ProxyInfo), **ERRORS}, exclude_none=True)
def get_proxy_info(request, id: UUID):
    connection = own_connection(request, id)
    try:
        return {"data": services.info(connection)}
    except services.ProxyRefused as error:
        return refusal(error)


@router.get("/connections/{id}/proxy/settings", response={200: Envelope(ProxySettingsOut), **ERRORS},
            exclude_none=True)
def get_proxy_settings(request, id: UUID):
    return {"data": settings_out(own_connection(request, id))}


@router.put("/connections/{id}/proxy/settings", response={200: Envelope(ProxySettingsOut), **ERRORS},
            exclude_none=True)
def update_proxy_settings(request, id: UUID, payload: ProxySettingsIn):
    connection = own_connection(request, id)
    try:
        services.update_settings(connection, payload.enabled, payload.allowed_methods)
    except services.ProxyRefused as error:
        return refusal(error)
    return {"data": settings_out(connection)}
