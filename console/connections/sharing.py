"""Shared connections: a copy of one organization's connection in another organization.

The copy is a Connection row of its own (its name, status and usage) whose `parent` holds
the settings and secrets (stored.holder); it can be used in models and syncs, never changed
or authorized from the organization it is shared with.
"""

from django.db import transaction

from .models import Connection
from .stored import ConfigurationInvalid


class ShareRefused(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


class AlreadyShared(Exception):
    def __init__(self, copy: Connection):
        super().__init__(f"The connection is already shared with {copy.organization.name!r} as {copy.name!r} "
                         f"(id {copy.pk}).")
        self.copy = copy


@transaction.atomic
def share(connection: Connection, child, name: str | None = None) -> Connection:
    """A new shared copy of `connection` in organization `child`."""
    if connection.parent_id:
        raise ShareRefused("connection_id", "is itself a shared copy; share its parent from the organization "
                                            "that owns it")
    if child.pk == connection.organization_id:
        raise ShareRefused("child_organization_id", "owns the connection already; share it with another "
                                                    "organization")
    existing = Connection.objects.select_for_update().filter(parent=connection, organization=child).first()
    if existing is not None:
        raise AlreadyShared(existing)
    return Connection.objects.create(
        organization=child, parent=connection, name=copy_name(name, connection), type=connection.type,
        status=connection.status, status_message=connection.status_message, checked_at=connection.checked_at)


def copy_name(name, connection: Connection) -> str:
    if name is None:
        return connection.name
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > 200:
        raise ConfigurationInvalid([("name", "must be 1 to 200 characters")])
    return name


def shared_copies(connection: Connection):
    return connection.shared_copies.select_related("organization", "created_by", "parent").order_by(
        "organization__name", "name")


def shared_elsewhere(organization):
    """This organization's connections that other organizations hold copies of."""
    return Connection.objects.filter(parent__organization=organization).exclude(organization=organization)
