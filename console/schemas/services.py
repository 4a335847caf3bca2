"""Connection schemas: refreshed by a worker, read and adjusted by users.

A refresh replaces what was detected and keeps what users added: fields of their own,
overrides of detected fields and primary-key overrides. Services raise NotFound,
Invalid (naming the field) or Unsupported; the API and the views turn them into answers.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from console.connections import probes
from console.connections.models import Connection, ConnectionStatus
from console.engine.queue import send_on_commit
from integrations.base import ConnectorError

from . import discovery
from .models import ConnectionSchema, RefreshStatus, SchemaCatalog

USER_TYPES = ("string", "number", "boolean", "datetime", "array", "object", "binary")
REFRESH_STALE = timedelta(minutes=10)  # a refresh still running after this is taken for lost
SAMPLE_SIZE = 10


class NotFound(Exception):
    pass


class Invalid(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Unsupported(Exception):
    pass


# ---- refresh --------------------------------------------------------------------


def catalog(connection: Connection) -> SchemaCatalog:
    return SchemaCatalog.objects.get_or_create(connection=connection)[0]


def start_refresh(connection: Connection) -> SchemaCatalog:
    """Send a refresh to a worker, unless one is already under way."""
    if not discovery.supported(connection):
        raise Unsupported(f"{connection.type_name} connections have no schemas to refresh.")
    if connection.status != ConnectionStatus.HEALTHY:
        raise Unsupported(f"The connection is {connection.get_status_display().lower()}; "
                          "only healthy connections can be refreshed.")
    with transaction.atomic():
        current = catalog(connection)
        current = SchemaCatalog.objects.select_for_update().get(pk=current.pk)
        now = timezone.now()
        if current.status == RefreshStatus.REFRESHING and current.refresh_started > now - REFRESH_STALE:
            return current
        current.status, current.error, current.refresh_started = RefreshStatus.REFRESHING, "", now
        current.save()
        send_on_commit("schemas.refresh", str(connection.pk))
    return current


def refresh(connection_id) -> None:
    """What the worker does: ask the connection what it holds and store it."""
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None:
        return
    try:
        found = discovery.discover(connection)
    except ConnectorError as error:
        SchemaCatalog.objects.filter(pk=connection.pk).update(
            status=RefreshStatus.FAILED, error=str(error), refresh_finished=timezone.now())
        return
    with transaction.atomic():
        for item in found:
            ConnectionSchema.objects.update_or_create(
                connection=connection, schema_id=item["id"],
                defaults={"name": item["name"], "table": item["table"], "detected": item["fields"]})
        connection.source_schemas.exclude(schema_id__in=[item["id"] for item in found]).delete()
        SchemaCatalog.objects.filter(pk=connection.pk).update(
            status=RefreshStatus.FRESH, error="", refresh_finished=timezone.now())


# ---- reading --------------------------------------------------------------------


def schemas_of(connection: Connection):
    return connection.source_schemas.all()


def get_schema(connection: Connection, schema_id: str, for_update: bool = False) -> ConnectionSchema:
    schemas = connection.source_schemas.select_for_update() if for_update else connection.source_schemas
    found = schemas.filter(schema_id=schema_id).first()
    if found is None:
        raise NotFound(f"The connection has no schema {schema_id!r}; refresh its schemas first if it is new.")
    return found


def fields_of(schema: ConnectionSchema) -> list[dict]:
    """The schema's fields as the SDK's SchemaField: detected ones with their overrides, then users' own."""
    fields = [field_out(schema, detected["id"], detected) for detected in schema.detected]
    return fields + [field_out(schema, field_id, None) for field_id, user in schema.user_fields.items()
                     if user.get("added")]


def field_out(schema: ConnectionSchema, field_id: str, detected: dict | None) -> dict:
    user = schema.user_fields.get(field_id) or {}
    source_key = bool(detected and detected.get("is_primary_key"))
    override = schema.primary_keys.get(field_id)
    out = {
        "id": field_id,
        "name": user.get("label") or (detected or {}).get("name") or field_id,
        "type": user.get("type") or (detected or {}).get("type") or "string",
        "remote_type": (detected or {}).get("remote_type") or user.get("type") or "string",
        "is_primary_key": override if override is not None else (source_key and not schema.primary_keys),
        "source_primary_key": source_key,
        "user_managed": bool(user),
    }
    if user.get("path"):
        out["path"] = user["path"]
    if override is not None:
        out["primary_key_override"] = override
    return out


def field_ids(schema: ConnectionSchema) -> list[str]:
    return [field["id"] for field in fields_of(schema)]


def sample(schema: ConnectionSchema) -> list[dict]:
    """A few of the schema's records, read while the web request waits (inside a probe slot).
    Raises ConnectorError when the source cannot be read."""
    detected = [field["id"] for field in schema.detected]
    with probes.slot() as deadline:
        return discovery.sample(schema.connection, schema.schema_id, schema.table, detected, SAMPLE_SIZE, deadline)


# ---- user fields and primary keys -------------------------------------------------


def clean_user_field(where: str, label, type_, path=None, example=None) -> dict:
    if not isinstance(label, str) or not label.strip():
        raise Invalid(f"{where}label", "is required")
    if type_ not in USER_TYPES:
        raise Invalid(f"{where}type", f"must be one of {', '.join(USER_TYPES)}")
    if path is not None and not isinstance(path, str):
        raise Invalid(f"{where}path", "must be a string")
    return {"label": label.strip(), "type": type_, "path": path or "", "example": example}


def upsert_fields(connection: Connection, schema_id: str, fields: list[dict]) -> None:
    """Create or replace user fields by field_id; all are checked before any is stored."""
    cleaned = {}
    for index, item in enumerate(fields):
        field_id = item.get("field_id")
        if not isinstance(field_id, str) or not field_id.strip():
            raise Invalid(f"fields.{index}.field_id", "is required")
        cleaned[field_id] = clean_user_field(f"fields.{index}.", item.get("label"), item.get("type"),
                                             item.get("path"), item.get("example"))
    with transaction.atomic():
        schema = get_schema(connection, schema_id, for_update=True)
        detected = {field["id"] for field in schema.detected}
        for field_id, user in cleaned.items():
            schema.user_fields[field_id] = {**user, "added": field_id not in detected}
        schema.save(update_fields=["user_fields"])


def patch_field(connection: Connection, schema_id: str, field_id: str, changes: dict) -> dict:
    """Change a field's label, type, path or example (an override, for a detected field)."""
    with transaction.atomic():
        schema = get_schema(connection, schema_id, for_update=True)
        detected = next((field for field in schema.detected if field["id"] == field_id), None)
        current = schema.user_fields.get(field_id)
        if detected is None and current is None:
            raise NotFound(f"The schema {schema_id!r} has no field {field_id!r}.")
        base = current or {"label": detected["name"], "type": detected["type"], "path": "", "example": None}
        merged = {**base, **{key: value for key, value in changes.items() if value is not None}}
        user = clean_user_field("", merged.get("label"), merged.get("type"), merged.get("path"),
                                merged.get("example"))
        schema.user_fields[field_id] = {**user, "added": detected is None}
        schema.save(update_fields=["user_fields"])
    return field_out(schema, field_id, detected)


def delete_field(connection: Connection, schema_id: str, field_id: str) -> None:
    with transaction.atomic():
        schema = get_schema(connection, schema_id, for_update=True)
        user = schema.user_fields.get(field_id)
        if user is None or not user.get("added"):
            if any(field["id"] == field_id for field in schema.detected):
                raise Invalid("field_id", "is detected from the source; only user-defined fields can be deleted")
            raise NotFound(f"The schema {schema_id!r} has no user-defined field {field_id!r}.")
        del schema.user_fields[field_id]
        schema.primary_keys.pop(field_id, None)
        schema.save(update_fields=["user_fields", "primary_keys"])


def set_primary_keys(connection: Connection, schema_id: str, keys: list[dict]) -> None:
    """Replace the primary-key overrides: [{"field_id", "is_primary_key"}]."""
    with transaction.atomic():
        schema = get_schema(connection, schema_id, for_update=True)
        known = set(field_ids(schema))
        overrides = {}
        for index, item in enumerate(keys):
            if item.get("field_id") not in known:
                raise Invalid(f"fields.{index}.field_id", f"the schema has no field {item.get('field_id')!r}")
            overrides[item["field_id"]] = bool(item.get("is_primary_key"))
        schema.primary_keys = overrides
        schema.save(update_fields=["primary_keys"])


def reset_primary_keys(connection: Connection, schema_id: str) -> None:
    with transaction.atomic():
        schema = get_schema(connection, schema_id, for_update=True)
        schema.primary_keys = {}
        schema.save(update_fields=["primary_keys"])
