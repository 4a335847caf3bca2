"""The small vocabulary every provider and warehouse module speaks.

Modules under ``integrations`` take plain configuration dicts (secrets already
decrypted) and, for HTTP providers, an ``httpx.Client``. They never import
Django and never see ORM objects.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus


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
    secret_keys: tuple[str, ...] = ()  # keys of an array's object items that hold secrets (a header's value)
    address: str = ""  # "url" or "host": the console connects there, so the egress policy checks it
    refused: tuple[tuple[str, str], ...] = ()  # (value, why): values the reference lists that are not supported

    @property
    def holds_secrets(self) -> bool:
        return self.secret or bool(self.secret_keys)


MASK = "********"  # how a stored secret is shown; sent back unchanged it keeps the stored value
CREDENTIAL = re.compile(r"\b(Basic|Bearer)\s+[A-Za-z0-9+/=._~-]{16,}", re.IGNORECASE)


def secret_values(fields, config: dict) -> list[str]:
    """The values in `config` that `fields` mark secret, item keys included."""
    values = []
    for field in fields:
        value = config.get(field.name)
        if field.secret:
            values.append(value)
        elif field.secret_keys and isinstance(value, list):
            values += [item.get(key) for item in value if isinstance(item, dict) for key in field.secret_keys]
    return [value for value in values if isinstance(value, str) and len(value) >= 4]


def redact(text: str, values) -> str:
    """`text` with each of `values` replaced by the mask (a provider may echo what it was sent):
    as given, URL-encoded or JSON-escaped, and cut short at the end of a truncated quote.
    Basic and Bearer credentials are masked whatever they hold."""
    text = CREDENTIAL.sub(lambda found: f"{found.group(1)} {MASK}", text)
    forms = {form for value in values for form in (value, quote_plus(value), quote(value), json.dumps(value)[1:-1])}
    for value in sorted(forms, key=len, reverse=True):
        text = text.replace(value, MASK)
        cut = next((size for size in range(len(value) - 1, 3, -1) if text.endswith(value[:size])), 0)
        text = text[:-cut] + MASK if cut else text
    return text


@dataclass
class ProviderSession:
    """What a provider module works with: its configuration and a ready HTTP client.

    `config` merges the connection's plain and secret fields. `http` has the
    provider's API base URL and authentication set (OAuth tokens refresh
    themselves); `urls` holds any other resolved base URLs (e.g. instance_url).
    """

    config: dict
    http: Any  # httpx.Client
    urls: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Column:
    name: str
    type: str = STRING
    remote_type: str = ""  # the source's own type (picklist, reference, enumeration, ...)
    label: str = ""
    values: tuple = ()  # the values a picklist or enumeration allows


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


class SourceRefused(ConnectorError):
    """A model's source configuration names something the source does not have."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


class ConnectionFailed(ConnectorError):
    """The provider or warehouse could not be reached or refused the credentials."""


class NeedsReconnect(ConnectionFailed):
    """An OAuth grant was revoked or expired beyond refresh."""


class RateLimited(ConnectorError):
    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after


class CallCapReached(RateLimited):
    """The connection's own daily cap of API calls is spent; the call was not sent."""


# ---- Targets (model-sync destinations) -------------------------------------

MODES = ("create", "update", "updateOrCreate", "replace", "append", "remove", "snapshot")


@dataclass(frozen=True)
class Mode:
    id: str  # one of MODES
    requires_identity: bool = True
    supports_target_filters: bool = False
    supports_per_field_mode: bool = False
    description: str = ""  # one plain line for the sync builder


@dataclass(frozen=True)
class CreationProperty:
    """A property a person fills to create a new target object (e.g. an audience)."""

    id: str
    title: str
    enum: bool = False


@dataclass(frozen=True)
class TargetObject:
    id: str
    name: str
    modes: tuple[Mode, ...] = ()


@dataclass(frozen=True)
class TargetField:
    id: str
    name: str
    type: str = STRING
    required: bool = False
    identity: bool = False  # can match records on it
    createable: bool = True
    updateable: bool = True
    description: str = ""
    values: tuple = ()  # (value, label) pairs: the only values a picklist or enumeration accepts


@dataclass
class OutgoingRecord:
    """One mapped record on its way to the target."""

    identity: Any  # the value matched on (e.g. an email), or None for append
    fields: dict  # target field id -> value
    target_id: str | None = None  # the provider's id when an earlier run learned it


@dataclass(frozen=True)
class WriteSpec:
    """What a writer needs to know about the sync it writes for."""

    object_id: str
    mode: str
    identity_field: str | None = None  # target field matched on
    configuration: dict = field(default_factory=dict)  # target configuration
    create: dict | None = None  # creation properties when the sync creates the object


class Writer:
    """Writes batches to one target object; returns one outcome per record, in order."""

    batch_size: int = 100

    def prepare(self) -> dict:
        """Runs once before the first batch (e.g. create an audience); returns state to keep."""
        return {}

    def write(self, records: list[OutgoingRecord]) -> list[RecordOutcome]:
        raise NotImplementedError

    def remove(self, records: list[OutgoingRecord]) -> list[RecordOutcome]:
        raise ConnectorError("This target cannot remove records.")
