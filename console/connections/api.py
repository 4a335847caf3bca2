"""Connections and connection types, in Polytomic's shapes (/api/connections...)."""

from datetime import datetime
from uuid import UUID

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema

from console.access.rules import visible
from console.accounts import redirect_urls
from console.api.errors import ApiError, field_error
from console.api.schemas import ERRORS, Envelope, ListEnvelope
from integrations import catalogue
from integrations.base import ConnectorError
from integrations.files import FILES_OFF
from integrations.connection_types import ConnectionType

from . import oauth, services, usage
from .models import Connection, ConnectionStatus

router = Router(tags=["Connections"])


class TypeRef(Schema):
    id: str
    name: str
    logo_url: str | None = None
    logo_dark_url: str | None = None
    operations: list[str] = []


class Actor(Schema):
    id: str | None = None
    name: str | None = None
    type: str | None = None


class ConnectionOut(Schema):
    id: str
    name: str
    organization_id: str
    type: TypeRef
    configuration: dict
    status: str
    status_error: str | None = None
    saved: bool = True
    healthcheck_interval: str | None = None
    policies: list[str] = []
    created_at: datetime
    updated_at: datetime
    created_by: Actor | None = None
    api_calls_last_24_hours: int | None = None


class ListedConnection(Schema):
    """A connection as GET answers it (the SDK's ConnectionResponseSchema)."""

    id: str
    name: str
    organization_id: str
    type: TypeRef
    configuration: dict
    status: str
    status_error: str | None = None
    saved: bool = True
    policies: list[str] = []
    created_at: datetime
    updated_at: datetime
    created_by: Actor | None = None
    api_calls_last_24_hours: int | None = None
    parent_connection_id: str | None = None  # a shared copy's parent, in the organization that owns it


class CreatedConnection(ConnectionOut):
    auth_url: str | None = None
    auth_code: str | None = None


class ConnectionIn(Schema):
    name: str
    type: str
    configuration: dict
    redirect_url: str | None = None
    validate_: bool = Field(True, alias="validate")
    healthcheck_interval: str | None = None
    organization_id: str | None = None
    policies: list[str] = []


class ConnectionUpdate(Schema):
    name: str
    configuration: dict
    type: str | None = None
    reconnect: bool = False
    redirect_url: str | None = None
    validate_: bool = Field(True, alias="validate")
    healthcheck_interval: str | None = None
    organization_id: str | None = None
    policies: list[str] = []


class TestIn(Schema):
    type: str
    configuration: dict
    connection_id: UUID | None = None


class Capabilities(Schema):
    source: bool
    destination: bool
    enrichment: bool = False
    orchestration: bool = False
    logging: bool = False


class ConnectionTypeOut(Schema):
    id: str
    name: str
    logo_url: str | None = None
    logo_dark_url: str | None = None
    use_oauth: bool
    capabilities: Capabilities
    configurationForm: dict
    initialConfiguration: dict
    envConfig: dict = {}


class DayUsage(Schema):
    day: str
    calls: int


class ConnectionUsage(Schema):
    connectionId: str
    callsLast24h: int
    reportsSyncStats: bool = False
    bySync: list[dict] = []
    byDay: list[DayUsage]  # today (UTC) first


class ParameterValue(Schema):
    value: str
    label: str
    path: str | None = None


class ParameterValues(Schema):
    allows_creation: bool = False
    values: list[ParameterValue] = []


class ParameterValuesIn(Schema):
    field: str
    connection_id: UUID | None = None
    parameters: dict = {}
    query: str | None = None


def type_ref(kind: ConnectionType) -> dict:
    return {"id": kind.id, "name": kind.name, "operations": kind.capabilities.operations()}


def connection_row(connection: Connection, auth_url: str | None = None, calls: int | None = None) -> dict:
    """calls: api_calls_last_24_hours when the caller read it already (a list reads them all at once)."""
    user = connection.created_by
    return {
        "id": str(connection.id),
        "name": connection.name,
        "organization_id": str(connection.organization_id),
        "type": type_ref(services.connection_type(connection.type)),
        "configuration": services.visible_configuration(connection),
        "status": connection.status,
        "status_error": connection.status_message or None,
        "created_at": connection.created_at,
        "updated_at": connection.updated_at,
        "created_by": {"id": str(user.id), "name": user.email, "type": "user"} if user else None,
        "api_calls_last_24_hours": usage.connection_calls_last_24_hours(connection) if calls is None else calls,
        "parent_connection_id": str(connection.parent_id) if connection.parent_id else None,
        "auth_url": auth_url,
    }


def invalid(error: services.ConfigurationInvalid) -> ApiError:
    errors = [{"field": field, "message": message} for field, message in error.errors]
    first = errors[0]
    return ApiError(400, f"{first['field']}: {first['message']}", key="validation_error",
                    metadata={"errors": errors})


def shared_read_only(error: services.SharedReadOnly) -> ApiError:
    refused = invalid(error)
    return ApiError(403, refused.message, key="shared_connection", metadata=refused.metadata)


def own_connection(request, connection_id) -> Connection:
    return get_object_or_404(Connection.objects.select_related("created_by"), pk=connection_id,
                             organization=request.auth.organization)


def check_organization(request, organization_id):
    if organization_id and organization_id != str(request.auth.organization_id):
        raise ApiError(404, "Organization not found.", key="not_found")


def checked_redirect_url(request, redirect_url: str | None) -> str:
    if not redirect_url:
        return ""
    try:
        return redirect_urls.check(request.auth.organization, redirect_url)
    except redirect_urls.RedirectRefused as error:
        raise field_error("redirect_url", str(error)) from None


def auth_url_for(request, connection: Connection, redirect_url: str | None) -> str | None:
    if connection.status != ConnectionStatus.PENDING_AUTH:
        return None
    try:
        return oauth.authorization_url(connection, callback_url=request.build_absolute_uri(oauth.CALLBACK_PATH),
                                       user=request.auth.created_by, redirect_url=redirect_url or "")
    except ConnectorError as error:
        raise ApiError(422, str(error), key="oauth_unavailable") from None


# ---- connection types ----------------------------------------------------------


@router.get("/connection_types", response={200: ListEnvelope(ConnectionTypeOut), **ERRORS})
def list_connection_types(request):
    rows = []
    for kind in services.offered_types():
        rows.append({
            "id": kind.id,
            "name": kind.name,
            "use_oauth": kind.oauth is not None,
            "capabilities": {"source": kind.capabilities.model_source or kind.capabilities.bulk_sync_source,
                             "destination": kind.capabilities.model_sync_target},
            "configurationForm": {"jsonschema": catalogue.json_schema(kind), "uischema": None},
            "initialConfiguration": {f.name: f.default for f in kind.fields if f.default is not None},
        })
    return {"data": rows}


@router.get("/connection_types/{type_id}", response={200: dict, **ERRORS})
def connection_type_schema(request, type_id: str):
    kind = catalogue.get(type_id)
    if kind is None:
        raise ApiError(404, f"Unknown connection type {type_id!r}.", key="not_found")
    if kind not in services.offered_types():
        raise ApiError(404, FILES_OFF, key="not_found")
    return catalogue.json_schema(kind)


@router.post("/connection_types/{type_id}/parameter_values",
             response={200: Envelope(dict[str, ParameterValues]), **ERRORS})
def type_parameter_values(request, type_id: str, payload: ParameterValuesIn):
    if catalogue.get(type_id) is None:
        raise ApiError(404, f"Unknown connection type {type_id!r}.", key="not_found")
    if payload.connection_id is None:
        raise ApiError(400, "connection_id: is required to list values from the provider.",
                       key="validation_error", metadata={"errors": [{"field": "connection_id",
                                                                      "message": "is required"}]})
    connection = own_connection(request, payload.connection_id)
    if connection.type != type_id:
        raise ApiError(404, "Not found.", key="not_found")
    values = values_of(connection)
    return {"data": {payload.field: values.get(payload.field)}}


# ---- connections -----------------------------------------------------------------


@router.get("/connections", response={200: ListEnvelope(ListedConnection), **ERRORS})
def list_connections(request):
    connections = visible(request, services.organization_connections(request.auth.organization), "connection")
    connections = list(connections.select_related("created_by"))
    calls = usage.calls_last_24_hours_of(connections)
    return {"data": [connection_row(c, calls=calls[c.pk]) for c in connections]}


@router.post("/connections", response={200: Envelope(CreatedConnection), **ERRORS})
def create_connection(request, payload: ConnectionIn):
    check_organization(request, payload.organization_id)
    redirect_url = checked_redirect_url(request, payload.redirect_url)
    try:
        connection = services.create_connection(
            request.auth.organization, name=payload.name, type_id=payload.type,
            configuration=payload.configuration, user=request.auth.created_by, validate=payload.validate_)
    except services.ConfigurationInvalid as error:
        raise invalid(error) from None
    return {"data": connection_row(connection, auth_url_for(request, connection, redirect_url))}


@router.post("/connections/test", response={200: None, **ERRORS})
def test_connection(request, payload: TestIn):
    try:
        services.test_configuration(request.auth.organization, payload.type, payload.configuration,
                                    connection_id=payload.connection_id)
    except services.SharedReadOnly as error:
        raise shared_read_only(error) from None
    except services.ConfigurationInvalid as error:
        raise invalid(error) from None
    except ConnectorError as error:
        raise ApiError(400, str(error), key="connection_test_failed") from None
    return HttpResponse(status=200)


@router.get("/connections/{connection_id}", response={200: Envelope(ListedConnection), **ERRORS})
def get_connection(request, connection_id: UUID):
    return {"data": connection_row(own_connection(request, connection_id))}


@router.api_operation(["PUT", "POST"], "/connections/{connection_id}",
                      response={200: Envelope(CreatedConnection), **ERRORS})
def update_connection(request, connection_id: UUID, payload: ConnectionUpdate):
    check_organization(request, payload.organization_id)
    connection = own_connection(request, connection_id)
    redirect_url = checked_redirect_url(request, payload.redirect_url)
    try:
        connection = services.update_connection(
            connection, name=payload.name, configuration=payload.configuration, type_id=payload.type,
            validate=payload.validate_, reconnect=payload.reconnect)
    except services.SharedReadOnly as error:
        raise shared_read_only(error) from None
    except services.ConfigurationInvalid as error:
        raise invalid(error) from None
    return {"data": connection_row(connection, auth_url_for(request, connection, redirect_url))}


@router.delete("/connections/{connection_id}", response={200: None, **ERRORS})
def delete_connection(request, connection_id: UUID, force: bool = False):
    connection = own_connection(request, connection_id)
    try:
        services.delete_connection(connection)
    except services.ConnectionInUse as error:
        raise ApiError(422, str(error), key="connection_in_use", metadata={"used_by": error.users}) from None
    return HttpResponse(status=200)


@router.get("/connections/{connection_id}/usage", response={200: Envelope(ConnectionUsage), **ERRORS})
def connection_usage(request, connection_id: UUID):
    connection = own_connection(request, connection_id)
    report = usage.usage(connection)
    return {"data": {"connectionId": str(connection.pk), "callsLast24h": report["calls_last_24_hours"],
                     "byDay": report["by_day"]}}


@router.get("/connections/{connection_id}/parameter_values",
            response={200: Envelope(dict[str, ParameterValues]), **ERRORS})
def connection_parameter_values(request, connection_id: UUID):
    return {"data": values_of(own_connection(request, connection_id))}


def values_of(connection: Connection) -> dict:
    try:
        values = services.parameter_values(connection)
    except ConnectorError as error:
        raise ApiError(400, str(error), key="provider_error") from None
    return {field: {"allows_creation": False, "values": [{"value": v, "label": label} for v, label in pairs]}
            for field, pairs in values.items()}
