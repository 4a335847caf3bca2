"""From a model row to the record a writer sends: identity, mapped fields, fingerprint.

Plain functions over the sync's stored API shapes (identity, fields,
override_fields); no database access, so they are tested with plain dicts.
"""

import datetime
import decimal
import hashlib
import json
import operator
import uuid
from dataclasses import dataclass
from json.encoder import c_make_encoder, encode_basestring_ascii
from typing import Any

from integrations.base import OutgoingRecord

MAX_IDENTITY_LENGTH = 500  # RecordState.identity
CASE_INSENSITIVE_FUNCTIONS = ("isubstring",)


class MappingError(Exception):
    """The sync's mapping cannot be applied to the model's rows (e.g. a missing column)."""


@dataclass(frozen=True)
class Mapping:
    identity_source: str | None
    identity_target: str | None
    case_insensitive: bool = False
    fields: tuple[tuple[str, str], ...] = ()  # (model column, target field)
    constants: tuple[tuple[str, Any], ...] = ()  # (target field, value)
    create_only: frozenset = frozenset()  # target fields written only when a record is created

    @classmethod
    def from_sync(cls, identity, fields, override_fields):
        identity = identity or {}
        source = (identity.get("source") or {}).get("field") or None
        function = str(identity.get("function") or "").lower()
        mapped, constants, create_only = [], [], set()
        for item in fields or []:
            target = item.get("target")
            if not target:
                continue
            column = (item.get("source") or {}).get("field")
            if column:
                mapped.append((column, target))
            elif item.get("override_value") is not None:
                constants.append((target, item["override_value"]))
            if item.get("sync_mode") == "create":
                create_only.add(target)
        for item in override_fields or []:
            if item.get("target"):
                constants.append((item["target"], item.get("override_value")))
                if item.get("sync_mode") == "create":
                    create_only.add(item["target"])
        return cls(
            identity_source=source,
            identity_target=identity.get("target") or None,
            case_insensitive=function in CASE_INSENSITIVE_FUNCTIONS,
            fields=tuple(mapped),
            constants=tuple(constants),
            create_only=frozenset(create_only),
        )

    @property
    def columns(self) -> list[str]:
        wanted = [self.identity_source] if self.identity_source else []
        return wanted + [column for column, _ in self.fields if column not in wanted]


@dataclass
class Mapped:
    key: str | None  # the identity as RecordState keeps it
    record: OutgoingRecord
    fingerprint: str
    problem: str = ""  # why the row cannot be sent; empty when it can


def json_safe(value):
    """Warehouse values (Decimal, datetime, UUID, bytes) as JSON values a provider accepts."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [json_safe(v) for v in value]
    return str(value)


# One encoder for every row: json.dumps with options builds a new encoder per call.
VALUE_ENCODER = json.JSONEncoder(separators=(",", ":"), default=json_safe)


def values_encoder():
    """VALUE_ENCODER.encode for a row's values, in half the time: json's C encoder made
    once (encode() makes one per call). Rows are never circular, so nothing checks."""
    if c_make_encoder is None:
        return VALUE_ENCODER.encode
    chunks = c_make_encoder(None, json_safe, encode_basestring_ascii, None, ":", ",", False, False, True)
    return lambda values: "".join(chunks(values, 0))


encode_values = values_encoder()


class RowMapper:
    """Maps rows of one model for one sync; resolves column names once, on the first row.

    The fingerprint hashes the row's raw values under the mapping, so a run tells an
    unchanged row from a changed one without building its payload; a change to the
    mapping changes every fingerprint and the next run sends every record again."""

    def __init__(self, mapping: Mapping):
        self.mapping = mapping
        self.resolved: dict[str, str] | None = None
        self.values = None  # row -> the values of mapping.columns, whatever their case in the row
        self.identity_name = None  # the identity column's name in the row
        salt = VALUE_ENCODER.encode([
            mapping.identity_source, mapping.identity_target, mapping.case_insensitive,
            mapping.fields, mapping.constants, sorted(mapping.create_only),
        ])
        self.salted = hashlib.md5(salt.encode())

    def resolve(self, row: dict):
        """Warehouses differ in the case of column names (Snowflake: EMAIL); match either."""
        by_lower = {str(name).lower(): name for name in row}
        resolved, missing = {}, []
        for column in self.mapping.columns:
            if column in row:
                resolved[column] = column
            elif column.lower() in by_lower:
                resolved[column] = by_lower[column.lower()]
            else:
                missing.append(column)
        if missing:
            raise MappingError(
                f"The model has no column {', '.join(repr(m) for m in missing)}; "
                f"it returns {', '.join(repr(str(n)) for n in row) or 'no columns'}. "
                "Refresh the model or change the sync's mapping."
            )
        self.resolved = resolved
        sources = [resolved[column] for column in self.mapping.columns]
        self.values = operator.itemgetter(*sources) if len(sources) > 1 else lambda row: (row[sources[0]],)
        if self.mapping.identity_source:
            self.identity_name = resolved[self.mapping.identity_source]
        self.identify = self.identifier()

    def identify(self, row: dict) -> tuple[str | None, str, str]:
        """(key, fingerprint, problem) of a row, without building its payload."""
        self.resolve(row)  # the first row only: resolve() puts identifier() in this method's place
        return self.identify(row)

    def identifier(self):
        """identify() for the resolved columns, with everything a row needs looked up once."""
        copy, values, encode = self.salted.copy, self.values, encode_values
        column, name = self.mapping.identity_source, self.identity_name
        case_insensitive = self.mapping.case_insensitive

        def identify(row):
            digest = copy()
            digest.update(encode(values(row)).encode())
            fingerprint = digest.hexdigest()
            if not column:
                return fingerprint, fingerprint, ""  # append-style syncs: a row is its own identity
            value = row[name]
            if value.__class__ is str:  # identity_key's answer for the usual value, sooner
                key = value.strip()
                if key and len(key) <= MAX_IDENTITY_LENGTH:
                    return (key.lower() if case_insensitive else key), fingerprint, ""
            key, problem = identity_key(json_safe(value), column, case_insensitive)
            return key, fingerprint, problem

        return identify

    def __call__(self, row: dict) -> Mapped:
        key, digest, problem = self.identify(row)
        return Mapped(key=key, record=self.record(row, with_identity=not problem), fingerprint=digest,
                      problem=problem)

    def record(self, row: dict, with_identity: bool = True) -> OutgoingRecord:
        """The record sent for a row (of a resolved mapper): mapped fields, constants, identity."""
        m = self.mapping
        fields = {target: json_safe(row[self.resolved[column]]) for column, target in m.fields}
        for target, value in m.constants:
            fields[target] = value
        identity = None
        if m.identity_source:
            identity = json_safe(row[self.resolved[m.identity_source]])
            if m.identity_target and with_identity:
                fields[m.identity_target] = identity
        return OutgoingRecord(identity=identity, fields=fields)


def identity_key(value, column: str, case_insensitive: bool = False) -> tuple[str | None, str]:
    """(key, problem): the identity as a string key, or why the row has no usable identity."""
    if value is None:
        return None, f"The identity field '{column}' is null."
    if isinstance(value, (dict, list)):
        return None, f"The identity field '{column}' holds a {type(value).__name__}, not a value."
    key = str(value).strip()
    if not key:
        return None, f"The identity field '{column}' is empty."
    if len(key) > MAX_IDENTITY_LENGTH:
        return None, f"The identity field '{column}' is longer than {MAX_IDENTITY_LENGTH} characters."
    return (key.lower() if case_insensitive else key), ""


def without_create_only(fields: dict, create_only) -> dict:
    """An update's payload: fields marked "do not overwrite" are only sent on creation."""
    if not create_only:
        return fields
    return {k: v for k, v in fields.items() if k not in create_only}
