"""A stored connection as the connection modules all need it: its type, its merged
configuration, its status and its OAuth tokens. Services, OAuth and provider sessions
import this; it imports none of them."""

from django.db import transaction
from django.utils import timezone

from integrations import catalogue
from integrations.base import redact, secret_values
from integrations.connection_types import ConnectionType

from .models import Connection, ConnectionStatus


class ConfigurationInvalid(Exception):
    """Field-level problems: errors is [(field path, message)], e.g. ("configuration.account", "is required")."""

    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors))
        self.errors = errors


def holder(connection: Connection) -> Connection:
    """The connection whose settings and secrets this one uses: its parent when it is a shared copy."""
    return connection.parent if connection.parent_id else connection


def connection_config(connection: Connection) -> dict:
    """Plain and secret configuration merged, for integrations only (never for output)."""
    source = holder(connection)
    return {**source.configuration, **source.secrets}


def connection_type(type_id) -> ConnectionType:
    kind = catalogue.get(type_id) if isinstance(type_id, str) else None
    if kind is None:
        known = ", ".join(sorted(catalogue.by_id()))
        raise ConfigurationInvalid([("type", f"unknown connection type {type_id!r}; known types: {known}")])
    return kind


def without_secrets(text: str, connection: Connection) -> str:
    """`text` with every secret of the connection (fields, item keys, OAuth tokens) masked."""
    kind = catalogue.get(connection.type)
    config = connection_config(connection)
    tokens = [config.get(key) for key in ("oauth_access_token", "oauth_refresh_token")]
    values = secret_values(kind.fields if kind else (), config)
    return redact(text, values + [token for token in tokens if isinstance(token, str) and len(token) >= 4])


def set_status(connection: Connection, status: str, message: str = "") -> Connection:
    connection.status = status
    connection.status_message = message
    connection.checked_at = timezone.now()
    Connection.objects.filter(pk=connection.pk).update(status=status, status_message=message,
                                                       checked_at=connection.checked_at)
    return connection


def mark_needs_reconnect(connection_id, message: str):
    Connection.objects.filter(pk=connection_id).update(
        status=ConnectionStatus.NEEDS_RECONNECT, status_message=message, checked_at=timezone.now())


@transaction.atomic
def store_tokens(connection_id, tokens: dict, status_message: str = "") -> Connection:
    """Save OAuth tokens (oauth_* keys) into the connection's encrypted secrets."""
    connection = Connection.objects.select_for_update().get(pk=connection_id)
    connection.secrets = {**connection.secrets, **tokens}
    connection.save(update_fields=["encrypted_secrets", "updated_at"])
    return connection
