"""Polytomic Connect: sessions that let someone outside the console make or reconnect one
connection on a hosted page, then go back to the caller's redirect URL."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from console.accounts import redirect_urls
from integrations import catalogue

from . import services
from .models import Connection, ConnectionStatus, ConnectSession

DEFAULT_TTL = 300
MAX_TTL = 604800


class ConnectInvalid(ValueError):
    """A request for a session the API refuses; `field` names what is wrong."""

    def __init__(self, field: str, message: str, status: int = 400):
        super().__init__(message)
        self.field, self.message, self.status = field, message, status


class ConnectClosed(Exception):
    """The hosted page cannot be opened with this token; the message is safe to show."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def page_url(token: str) -> str:
    return f"{settings.PUBLIC_URL}{reverse('connect:page')}?token={token}"


def offered(type_id: str, field: str) -> str:
    if catalogue.get(type_id) is None:
        raise ConnectInvalid(field, f"there is no connection type {type_id!r}")
    try:
        return services.offered_type(type_id).id
    except services.ConfigurationInvalid as error:
        raise ConnectInvalid(field, error.errors[0][1]) from None


def start(organization, *, name: str, redirect_url: str, type: str | None = None, whitelist=None,
          connection_id=None, ttl: int | None = None, dark: bool = False,
          use_organization_name: bool = False) -> tuple[ConnectSession, str]:
    """A new session and its raw token (shown once)."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ConnectInvalid("name", "is required, at most 200 characters")
    try:
        redirect_urls.check(organization, redirect_url or "")
    except redirect_urls.RedirectRefused as refusal:
        raise ConnectInvalid("redirect_url", str(refusal)) from None
    ttl = DEFAULT_TTL if ttl is None else ttl
    if not 1 <= ttl <= MAX_TTL:
        raise ConnectInvalid("ttl", f"must be between 1 and {MAX_TTL} seconds")
    connection = None
    if connection_id:
        connection = Connection.objects.filter(pk=connection_id, organization=organization).first()
        if connection is None:
            raise ConnectInvalid("connection", f"no connection {connection_id} in this organization", status=404)
        if connection.parent_id:
            raise ConnectInvalid("connection", "is shared with this organization; only its owner can reconnect it",
                                 status=403)
        type = connection.type
    elif Connection.objects.filter(organization=organization, name=name).exists():
        raise ConnectInvalid("name", f"a connection named {name!r} already exists in this organization", status=409)
    allowed = []
    if type:
        type = offered(type, "type")
    else:
        allowed = [offered(t, f"whitelist[{i}]") for i, t in enumerate(whitelist or [])]
    token = secrets.token_urlsafe(32)
    session = ConnectSession.objects.create(
        organization=organization, token_hash=hash_token(token), name=name, type=type or "", whitelist=allowed,
        connection=connection, redirect_url=redirect_url, dark=bool(dark),
        use_organization_name=bool(use_organization_name), expires_at=timezone.now() + timedelta(seconds=ttl))
    return session, token


def return_url(session: ConnectSession) -> str:
    """Where the browser goes once done: the session's redirect URL while the organization still allows it."""
    return redirect_urls.allowed_or_empty(session.organization, session.redirect_url)


def find(token: str) -> ConnectSession | None:
    if not token or len(token) > 200:
        return None
    return ConnectSession.objects.select_related("organization", "connection").filter(
        token_hash=hash_token(token)).first()


def status(session: ConnectSession) -> str:
    if session.completed_at:
        return "completed"
    return "expired" if session.expires_at <= timezone.now() else "pending"


def open_session(token: str) -> ConnectSession:
    """The session this token opens on the hosted page; ConnectClosed when there is none to open."""
    session = find(token)
    if session is None:
        raise ConnectClosed("This Connect link is not valid. Ask whoever sent it for a new one.")
    if session.completed_at:
        raise ConnectClosed("This Connect link was already used to make its connection.")
    if session.expires_at <= timezone.now():
        raise ConnectClosed("This Connect link has expired. Ask whoever sent it for a new one.")
    return session


def types(session: ConnectSession) -> list:
    """The connection types the session offers, as catalogue types."""
    if session.type:
        return [services.connection_type(session.type)]
    offered_now = services.offered_types()
    if session.whitelist:
        return [kind for kind in offered_now if kind.id in session.whitelist]
    return offered_now


def chosen_type(session: ConnectSession, type_id: str):
    """The type the person picked when the session offers it, else None."""
    return next((kind for kind in types(session) if kind.id == type_id), None)


def save(session: ConnectSession, kind, configuration: dict) -> Connection:
    """Makes (or reconnects) the session's connection; services.ConfigurationInvalid when refused."""
    if session.connection is not None:
        connection = services.update_connection(session.connection, name=session.connection.name,
                                                configuration=configuration, reconnect=True)
    else:
        connection = services.create_connection(session.organization, name=session.name, type_id=kind.id,
                                                configuration=configuration)
        ConnectSession.objects.filter(pk=session.pk).update(connection=connection)
        session.connection = connection
    return connection


def finish(session: ConnectSession) -> bool:
    """Marks the session done once its connection is healthy; True when it is."""
    connection = session.connection
    if connection is None:
        return False
    connection.refresh_from_db(fields=["status"])
    if connection.status != ConnectionStatus.HEALTHY:
        return False
    ConnectSession.objects.filter(Q(pk=session.pk), Q(completed_at__isnull=True)).update(
        completed_at=timezone.now())
    return True
