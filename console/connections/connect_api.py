"""Polytomic Connect: POST /api/connections/connect/ opens a session, GET .../connect/session reports it."""

from datetime import datetime

from ninja import Router, Schema
from pydantic import Field

from console.accounts.services import api_key_from_header
from console.api.errors import ApiError, field_error
from console.api.schemas import ERRORS, Envelope

from . import connect

router = Router(tags=["Connections"])


class ConnectIn(Schema):
    name: str
    redirect_url: str
    connection: str | None = None
    dark: bool | None = None
    organization_id: str | None = None
    ttl: int | None = None
    type: str | None = None
    use_organization_name: bool | None = None
    whitelist: list[str] | None = Field(None, max_length=200)


class ConnectCardOut(Schema):
    redirect_url: str
    token: str


class ConnectSessionOut(Schema):
    id: str
    name: str
    type: str | None = None
    whitelist: list[str] | None = None
    connection_id: str | None = None
    redirect_url: str
    dark: bool
    expires_at: datetime
    organization_name: str
    status: str  # pending, completed or expired


def session_out(session) -> dict:
    return {
        "id": str(session.pk), "name": session.name, "type": session.type or None,
        "whitelist": session.whitelist or None,
        "connection_id": str(session.connection_id) if session.connection_id else None,
        "redirect_url": session.redirect_url, "dark": session.dark, "expires_at": session.expires_at,
        "organization_name": session.organization.name, "status": connect.status(session),
    }


@router.post("/connections/connect/", response={200: Envelope(ConnectCardOut), **ERRORS},
             summary="Start a Polytomic Connect session")
def start_connect(request, payload: ConnectIn):
    organization = request.auth.organization
    if payload.organization_id and payload.organization_id != str(organization.pk):
        raise ApiError(404, f"No organization {payload.organization_id} is reachable with this key.",
                       key="not_found")
    try:
        session, token = connect.start(
            organization, name=payload.name, redirect_url=payload.redirect_url, type=payload.type,
            whitelist=payload.whitelist, connection_id=payload.connection, ttl=payload.ttl,
            dark=bool(payload.dark), use_organization_name=bool(payload.use_organization_name))
    except connect.ConnectInvalid as error:
        raise field_error(error.field, error.message, status=error.status) from None
    return {"data": {"redirect_url": connect.page_url(token), "token": token}}


@router.get("/connections/connect/session", auth=None, response={200: Envelope(ConnectSessionOut), **ERRORS},
            summary="The Connect session its token opens")
def connect_session(request, token: str = ""):
    if not token:
        raise ApiError(401, "Give the Connect session's token in the token query parameter.", key="unauthorized")
    session = connect.find(token)
    if session is None:
        raise ApiError(401, "This Connect token is not valid.", key="unauthorized")
    caller = api_key_from_header(request.headers.get("Authorization", ""))
    if caller is not None and caller.organization_id != session.organization_id:
        raise ApiError(404, "No Connect session with this token in this organization.", key="not_found")
    return {"data": session_out(session)}
