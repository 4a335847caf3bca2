"""The small vocabulary every provider and warehouse module speaks.

Modules under ``integrations`` take plain configuration dicts (secrets already
decrypted) and, for HTTP providers, an ``httpx.Client``. They never import
Django and never see ORM objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


# Column and field types shared by sources and targets.
STRING = "string"
INTEGER = "integer"
NUMBER = "number"
BOOLEAN = "boolean"
DATE = "date"
DATETIME = "datetime"
OBJECT = "object"
ARRAY = "array"
TYPES = (STRING, INTEGER, NUMBER, BOOLEAN, DATE, DATETIME, OBJECT, ARRAY)


@dataclass(frozen=True)
class ConfigField:
    """One field of a connection type's configuration form."""

    name: str
    title: str
    type: str = STRING  # string, integer, number, boolean, array, object
    description: str = ""
    required: bool = False
    secret: bool = False
    choices: tuple[str, ...] = ()
    default: Any = None
    readonly: bool = False


@dataclass(frozen=True)
class Column:
    name: str
    type: str = STRING


@dataclass(frozen=True)
class Table:
    schema: str
    name: str

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


@dataclass
class RecordOutcome:
    """What the target said about one record of a written batch."""

    identity: Any
    ok: bool
    action: str = ""  # inserted, updated, removed, unchanged
    target_id: str | None = None
    error: str | None = None
    payload: dict = field(default_factory=dict)


class ConnectorError(Exception):
    """A provider or warehouse refused or failed; the message is safe to show."""


class QueryError(ConnectorError):
    """The warehouse rejected a query; the message carries the warehouse's own text."""


class ConnectionFailed(ConnectorError):
    """The provider or warehouse could not be reached or refused the credentials."""


class NeedsReconnect(ConnectionFailed):
    """An OAuth grant was revoked or expired beyond refresh."""


class RateLimited(ConnectorError):
    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after
