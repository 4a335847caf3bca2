"""Bulk sync definitions: checked against the source's objects and fields, stored in the
API's own shapes (§2.8 of the reference), read back as BulkSyncResponse.

`create_bulk_sync` / `update_bulk_sync` take the request body as a plain dict (the
API and the console form both speak it) and raise `field_error` naming the first
field that is wrong. Source discovery (objects, an object's fields) is cached per
connection in the same cache target discovery uses.
"""

import re
import uuid

from django.db import transaction

from console.api.errors import ApiError, field_error
from console.connections import probes
from console.connections.files import file_root, files_enabled
from console.connections.models import Connection
from console.connections.services import connection_config, warehouse_endpoint
from console.engine.models import ACTIVE_STATUSES
from console.engine.schedule import next_run_time
from console.syncs.services import clean_schedule
from console.targets.services import cached
from integrations import catalogue, registry
from integrations.base import Column, ConnectorError
from integrations.files import FILES_OFF
from integrations.warehouses.destinations import DELETE_MODES, DESTINATIONS, get_destination

from . import schedules, schema_settings
from .models import BulkSync

SOURCES = registry.bulk_sources()
MODES = ("replicate", "append", "snapshot")
DISCOVER = ("all", "onlyIncremental", "onlyNonIncremental", "none")
NORMALIZE_NAMES = ("enabled", "disabled", "legacy")
SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DESTINATION_SETTINGS = ("schema", "deleted_records")
SOURCE_SETTINGS = ("include_deleted", "query_api")


# ---- sources ---------------------------------------------------------------------


def source_module(connection: Connection):
    return SOURCES[connection.type]


def open_session(connection: Connection):
    """The source's session for discovery while a web request waits (inside a probe slot)."""
    from console.connections.sessions import provider_session

    return provider_session(connection, deadline=probes.deadline())


def with_session(connection: Connection, work):
    with probes.slot():
        session = open_session(connection)
        try:
            return work(session)
        finally:
            session.http.close()


def source_objects(connection: Connection, refresh: bool = False) -> list[dict]:
    """[{"id", "name"}] of the source's objects."""
    module = source_module(connection)
    data, _ = cached(connection, "bulk-source:objects", lambda: with_session(connection, module.objects), refresh)
    return data


def source_fields(connection: Connection, object_id: str, refresh: bool = False) -> list[dict]:
    """[{"id", "name", "type", "remote_type", "is_primary_key"}] of one source object."""
    module = source_module(connection)
    data, _ = cached(connection, f"bulk-source:fields:{object_id}",
                     lambda: with_session(connection, lambda session: module.fields(session, object_id)), refresh)
    return data


def selected_columns(sync: BulkSync, schema: dict, described: list[dict]) -> list[Column]:
    """The columns to copy: the enabled fields, the key always, and fields that are new
    since the selection was saved unless the sync adds none automatically."""
    module = source_module(sync.source_connection)
    chosen = {f["id"]: f.get("enabled", True) for f in schema.get("fields") or []}
    add_new = not chosen or sync.automatically_add_new_fields != "none"
    tracking = module.tracking_field(schema["id"], [f["id"] for f in described])
    always = {module.KEY, tracking} | schema_settings.always_copied(schema)
    return [Column(f["id"], f["type"]) for f in described if f["id"] in always or chosen.get(f["id"], add_new)]


def source_offer(connection: Connection, include_fields: bool = False) -> dict:
    """BulkSyncSource: what a bulk sync can read from this connection."""
    if connection.type not in SOURCES:
        raise field_error("id", f"a {connection.type} connection cannot be a bulk-sync source; "
                                f"supported types: {', '.join(SOURCES)}")
    module = source_module(connection)
    settings = {"include_deleted": {"type": "boolean", "default": True,
                                    "description": "Copy records deleted in the source, marked as deleted"}}
    if hasattr(module, "QUERY_APIS"):
        settings["query_api"] = {"type": "string", "enum": list(module.QUERY_APIS)}
    schemas = []
    for obj in source_objects(connection):
        schema = {"id": obj["id"], "name": obj["name"]}
        if include_fields:
            schema["fields"] = [{key: f[key] for key in ("id", "name", "type", "remote_type", "is_primary_key")}
                                for f in source_fields(connection, obj["id"])]
        schemas.append(schema)
    return {"capabilities": {"supports_namespaces": False, "supports_tracking_fields": True},
            "configuration": settings, "schemas": schemas}


# ---- destinations ----------------------------------------------------------------------


MODE_LABELS = {
    "replicate": ("Replicate", "Tables mirror the source: records are inserted, updated and deleted."),
    "append": ("Append", "Every version of a record is added as a new row."),
    "snapshot": ("Snapshot", "Each run rebuilds the tables from a full read of the source."),
}


def destination_offer(connection: Connection) -> dict:
    """BulkSyncDest: how a bulk sync can write into this connection."""
    if connection.type not in DESTINATIONS:
        raise field_error("id", f"a {connection.type} connection cannot be a bulk-sync destination; "
                                f"supported types: {', '.join(DESTINATIONS)}")
    return {
        "configuration": {
            "schema": {"type": "string", "required": True, "description": "The schema the tables are written to"},
            "deleted_records": {"type": "string", "enum": list(DELETE_MODES), "default": "mark"},
        },
        "modes": [{"id": mode, "label": label, "description": description, "requires_identity": False,
                   "supports_field_sync_mode": False, "supports_target_filters": False}
                  for mode, (label, description) in MODE_LABELS.items()],
        "supported_resync_modes": ["refetch", "resync", "rebuild"],
        "supports_history_mode": False,
    }


def open_destination(sync: BulkSync):
    """The destination warehouse, not yet connected, set up as the sync says."""
    connection = sync.destination_connection
    settings = sync.destination_configuration or {}
    return get_destination(
        connection.type, connection_config(connection),
        endpoint=warehouse_endpoint(catalogue.get(connection.type)),
        files=file_root(),
        schema=settings.get("schema", ""),
        deletes=settings.get("deleted_records", "mark"),
        mode="append" if sync.mode == "append" else "replicate",
        record_timestamps=not sync.disable_record_timestamps,
        normalize_names=sync.normalize_names != "disabled",
    )


def output_name(sync: BulkSync, schema: dict) -> str:
    return open_destination(sync).name(schema.get("user_output_name") or schema["id"])


# ---- reading and writing ---------------------------------------------------------------


def create_bulk_sync(organization, data: dict, user=None) -> BulkSync:
    sync = BulkSync(organization=organization, created_by=user, updated_by=user, **clean(organization, data))
    sync.next_run_at = planned_run(sync)
    sync.save()
    return sync


def update_bulk_sync(sync: BulkSync, data: dict, user=None) -> BulkSync:
    """Full replacement: what the body leaves out is reset. Cursors survive, except where the
    tables they describe are no longer the ones written: a source, destination or schema that
    changed, an object that left the selection or was renamed (the new table starts full)."""
    values = clean(sync.organization, data, sync=sync)
    with transaction.atomic():
        sync = BulkSync.objects.select_for_update().get(pk=sync.pk)
        moved = (values["source_connection"] != sync.source_connection
                 or values["destination_connection"] != sync.destination_connection
                 or values["destination_configuration"]["schema"] != sync.destination_configuration.get("schema"))
        if moved:
            sync.cursors = {}
        renamed = {s["id"]: s.get("user_output_name") for s in sync.schemas}
        kept = {s["id"] for s in values["schemas"]
                if s["enabled"] and renamed.get(s["id"]) == s.get("user_output_name")}
        sync.cursors = {k: v for k, v in sync.cursors.items() if k in kept}
        for name, value in values.items():
            setattr(sync, name, value)
        sync.updated_by = user
        sync.next_run_at = planned_run(sync)
        sync.save()
    return sync


def set_active(sync: BulkSync, active: bool, user=None) -> BulkSync:
    sync.active = active
    sync.updated_by = user
    sync.next_run_at = planned_run(sync)
    sync.save(update_fields=["active", "updated_by", "next_run_at", "updated_at"])
    schedules.replan(sync)
    return sync


def delete_bulk_sync(sync: BulkSync):
    if sync.executions.filter(status__in=ACTIVE_STATUSES, is_test=False).exists():
        raise ApiError(409, "The bulk sync is running; cancel the run before deleting it.", key="sync_running")
    sync.delete()


def planned_run(sync: BulkSync):
    return next_run_time(sync.schedule) if sync.active else None


def bulk_sync_data(sync: BulkSync) -> dict:
    """BulkSyncResponse, plus the selected schemas (for the console's form; the API leaves them out)."""
    return {
        "id": str(sync.pk),
        "organization_id": str(sync.organization_id),
        "name": sync.name,
        "active": sync.active,
        "mode": sync.mode,
        "source_connection_id": str(sync.source_connection_id),
        "destination_connection_id": str(sync.destination_connection_id),
        "source_configuration": sync.source_configuration,
        "destination_configuration": sync.destination_configuration,
        "default_schedule": sync.schedule,
        "additional_schedules": schedules.additional_out(sync),
        "automatically_add_new_fields": sync.automatically_add_new_fields,
        "automatically_add_new_objects": sync.automatically_add_new_objects,
        "normalize_names": sync.normalize_names,
        "disable_record_timestamps": sync.disable_record_timestamps,
        "policies": sync.policies,
        "schemas": sync.schemas,
        "created_at": sync.created_at,
        "updated_at": sync.updated_at,
        "created_by": actor(sync.created_by),
        "updated_by": actor(sync.updated_by),
    }


def actor(user) -> dict | None:
    return {"id": str(user.pk), "name": user.email, "type": "user"} if user else None


def schemas_data(sync: BulkSync, schema_id: str | None = None, with_fields: bool = False) -> list[dict]:
    """Every source object (enabled or not) as BulkSchemaListItem, or with `with_fields` as
    BulkSchema: also its fields (those of enabled objects) and filters."""
    selected = {s["id"]: s for s in sync.schemas}
    destination = open_destination(sync)
    module = source_module(sync.source_connection)
    found = []
    for obj in source_objects(sync.source_connection):
        if schema_id is not None and obj["id"] != schema_id:
            continue
        schema = selected.get(obj["id"], {"id": obj["id"], "enabled": False, "fields": []})
        described = source_fields(sync.source_connection, obj["id"]) if schema["enabled"] else []
        item = {
            "id": obj["id"], "enabled": schema["enabled"],
            "output_name": destination.name(schema.get("user_output_name") or obj["id"]),
            "user_output_name": schema.get("user_output_name"),
            "tracking_field": module.tracking_field(obj["id"], [f["id"] for f in described]) if described else None,
            **schema_settings.out(schema),
        }
        if not with_fields:
            del item["filters"]
        else:
            copied = {c.name for c in selected_columns(sync, schema, described)}
            item["fields"] = [{"id": f["id"], "enabled": f["id"] in copied, "output_name": destination.name(f["id"]),
                               "user_output_name": None, "obfuscated": False} for f in described]
        found.append(item)
    return found


def replace_schemas(sync: BulkSync, items: list[dict], merge: bool = False, listed: bool = True) -> list[str]:
    """Store new settings for the objects `items` name (a PUT replaces an object's entry, a PATCH
    with `merge` changes only the keys given); all are checked before any is stored, and errors
    name "schemas[i]." settings when `listed`. An object whose settings change is read in full
    on the next run. Returns the ids of the objects given."""
    if not items:
        raise field_error("schemas", "must list at least one schema")
    current = {s["id"]: s for s in sync.schemas}
    cleaned = {}
    try:
        for i, item in enumerate(items):
            where = f"schemas[{i}]." if listed else ""
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise field_error(f"{where}id", "is required")
            if item["id"] in cleaned:
                raise field_error(f"{where}id", f"'{item['id']}' is listed twice")
            if merge:
                before = current.get(item["id"], {"id": item["id"], "enabled": False, "fields": []})
                item = {**before, **{key: value for key, value in item.items() if value is not None}}
            cleaned[item["id"]] = clean_schema(sync.source_connection, where, item)
    except ConnectorError as error:
        raise field_error("source_connection_id", f"could not read the source's objects: {error}") from None
    with transaction.atomic():
        locked = BulkSync.objects.select_for_update().get(pk=sync.pk)
        stored = {s["id"]: s for s in locked.schemas}
        changed = {object_id for object_id, schema in cleaned.items() if stored.get(object_id) != schema}
        locked.schemas = [cleaned.get(s["id"], s) for s in locked.schemas] + [
            s for object_id, s in cleaned.items() if object_id not in stored]
        locked.cursors = {k: v for k, v in locked.cursors.items() if k not in changed}
        locked.save(update_fields=["schemas", "cursors", "updated_at"])
    sync.schemas, sync.cursors = locked.schemas, locked.cursors
    return list(cleaned)


# ---- validation --------------------------------------------------------------------


def clean(organization, data: dict, sync: BulkSync | None = None) -> dict:
    """The BulkSync column values for a request body, or the first field_error."""
    if not isinstance(data, dict):
        raise field_error("body", "must be a JSON object")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise field_error("name", "is required")
    source = connection_of(organization, data.get("source_connection_id"), "source_connection_id", SOURCES,
                           "a bulk-sync source")
    destination = connection_of(organization, data.get("destination_connection_id"), "destination_connection_id",
                                DESTINATIONS, "a bulk-sync destination")
    mode = data.get("mode") or "replicate"
    if mode not in MODES:
        raise field_error("mode", f"must be one of {', '.join(MODES)}")
    if data.get("additional_schedules"):
        raise field_error("additional_schedules", "are managed at /api/bulk/syncs/{id}/schedules")
    values = {
        "name": name.strip(),
        "mode": mode,
        "source_connection": source,
        "destination_connection": destination,
        "destination_configuration": clean_destination_configuration(data.get("destination_configuration")),
        "source_configuration": clean_source_configuration(data.get("source_configuration"), source),
        "schedule": clean_default_schedule(organization, data.get("default_schedule")),
        "active": boolean(data, "active", True),
        "disable_record_timestamps": boolean(data, "disable_record_timestamps", False),
        "automatically_add_new_fields": choice(data, "automatically_add_new_fields", DISCOVER, "all"),
        "automatically_add_new_objects": choice(data, "automatically_add_new_objects", DISCOVER, "none"),
        "normalize_names": choice(data, "normalize_names", NORMALIZE_NAMES, "enabled"),
        "policies": [str(p) for p in data.get("policies") or []],
    }
    values["schemas"] = clean_schemas(source, data.get("schemas"))
    return values


def connection_of(organization, value, field: str, supported: dict, what: str) -> Connection:
    if value in (None, ""):
        raise field_error(field, "is required")
    try:
        connection = Connection.objects.get(organization=organization, pk=uuid.UUID(str(value)))
    except (ValueError, Connection.DoesNotExist):
        raise field_error(field, f"no connection '{value}' in this organization") from None
    if connection.type not in supported:
        raise field_error(field, f"a {connection.type} connection cannot be {what}; "
                                 f"supported types: {', '.join(supported)}")
    if catalogue.get(connection.type).file_backed and not files_enabled():
        raise field_error(field, FILES_OFF)
    return connection


def boolean(data: dict, name: str, default: bool) -> bool:
    value = data.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise field_error(name, "must be true or false")
    return value


def choice(data: dict, name: str, allowed, default: str) -> str:
    value = data.get(name) or default
    if value not in allowed:
        raise field_error(name, f"must be one of {', '.join(allowed)}")
    return value


def settings_dict(value, name: str, known) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise field_error(name, "must be an object")
    for key in value:
        if key not in known:
            raise field_error(f"{name}.{key}", f"is not a setting here; known: {', '.join(known)}")
    return value


def clean_destination_configuration(value) -> dict:
    if value is None:
        raise field_error("destination_configuration", 'is required, e.g. {"schema": "salesforce"}')
    value = settings_dict(value, "destination_configuration", DESTINATION_SETTINGS)
    schema = value.get("schema")
    if not isinstance(schema, str) or not schema.strip():
        raise field_error("destination_configuration.schema", "is required: the schema the tables are written to")
    if not SCHEMA_NAME.match(schema.strip()):
        raise field_error("destination_configuration.schema",
                          "must start with a letter or underscore and hold only letters, digits and underscores")
    deleted = value.get("deleted_records") or "mark"
    if deleted not in DELETE_MODES:
        raise field_error("destination_configuration.deleted_records", f"must be one of {', '.join(DELETE_MODES)}")
    return {"schema": schema.strip(), "deleted_records": deleted}


def clean_source_configuration(value, source: Connection) -> dict:
    value = settings_dict(value, "source_configuration", SOURCE_SETTINGS)
    include_deleted = value.get("include_deleted", True)
    if not isinstance(include_deleted, bool):
        raise field_error("source_configuration.include_deleted", "must be true or false")
    cleaned = {"include_deleted": include_deleted}
    if value.get("query_api") is not None:
        if source.type != "salesforce":
            raise field_error("source_configuration.query_api", "is a setting of Salesforce sources only")
        query_apis = registry.get(source.type).source.QUERY_APIS
        if value["query_api"] not in query_apis:
            raise field_error("source_configuration.query_api", f"must be one of {', '.join(query_apis)}")
        cleaned["query_api"] = value["query_api"]
    return cleaned


def clean_default_schedule(organization, schedule) -> dict:
    """The model-sync schedule rules, with errors named after default_schedule."""
    if isinstance(schedule, dict) and schedule.get("frequency") == "runafter":
        raise field_error("default_schedule.frequency", "runafter is not supported for bulk syncs")
    try:
        cleaned = clean_schedule(organization, schedule)
    except ApiError as error:
        renamed = [{**e, "field": "default_" + e["field"]} for e in error.metadata.get("errors", [])]
        raise ApiError(error.status, "default_" + error.message, key=error.key, metadata={"errors": renamed}) from None
    cleaned.pop("id", None)
    return cleaned


def clean_schemas(source: Connection, schemas) -> list[dict]:
    """Every object selected when the body names none; otherwise the named ones, each
    checked against the source's objects and fields."""
    try:
        if schemas is None:
            return [{"id": o["id"], "enabled": True, "fields": []} for o in source_objects(source)]
        if not isinstance(schemas, list):
            raise field_error("schemas", "must be a list of object ids or schema configurations")
        cleaned, seen = [], set()
        for i, item in enumerate(schemas):
            schema = clean_schema(source, f"schemas[{i}].", item)
            if schema["id"] in seen:
                raise field_error(f"schemas[{i}].id", f"'{schema['id']}' is listed twice")
            seen.add(schema["id"])
            cleaned.append(schema)
        return cleaned
    except ConnectorError as error:
        raise field_error("source_connection_id", f"could not read the source's objects: {error}") from None


def clean_schema(source: Connection, prefix: str, item) -> dict:
    """One schema entry as stored; errors name `prefix` + the setting (e.g. "schemas[0].fields[1].id")."""
    if isinstance(item, str):
        item = {"id": item}
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
        raise field_error(f"{prefix}id", "is required")
    object_id = item["id"]
    if not any(o["id"] == object_id for o in source_objects(source)) and \
            not any(o["id"] == object_id for o in source_objects(source, refresh=True)):
        raise field_error(f"{prefix}id", f"the source has no object '{object_id}'")
    enabled = item.get("enabled", True)
    if not isinstance(enabled, bool):
        raise field_error(f"{prefix}enabled", "must be true or false")
    output = item.get("user_output_name")
    if output is not None and (not isinstance(output, str) or not SCHEMA_NAME.match(output)):
        raise field_error(f"{prefix}user_output_name",
                          "must start with a letter or underscore and hold only letters, digits and underscores")
    fields = clean_fields(source, prefix, object_id, item.get("fields") or [])
    schema = {"id": object_id, "enabled": enabled, "fields": fields}
    if output:
        schema["user_output_name"] = output
    if any(item.get(name) not in (None, "", [], False) for name in (*schema_settings.SETTINGS, "tracking_field",
                                                                   "history_enabled")):
        described = source_fields(source, object_id)
        field_ids = [f["id"] for f in described]
        tracking = source_module(source).tracking_field(object_id, field_ids)
        schema.update(schema_settings.clean(item, prefix, field_ids, tracking))
    return schema


def clean_fields(source: Connection, prefix: str, object_id: str, fields) -> list[dict]:
    if not isinstance(fields, list):
        raise field_error(f"{prefix}fields", "must be a list of field ids or {id, enabled}")
    if not fields:
        return []
    known = {f["id"] for f in source_fields(source, object_id)}
    cleaned = []
    for j, entry in enumerate(fields):
        if isinstance(entry, str):
            entry = {"id": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise field_error(f"{prefix}fields[{j}].id", "is required")
        if entry["id"] not in known:
            known = {f["id"] for f in source_fields(source, object_id, refresh=True)}
            if entry["id"] not in known:
                raise field_error(f"{prefix}fields[{j}].id", f"{object_id} has no field '{entry['id']}'")
        cleaned.append({"id": entry["id"], "enabled": entry.get("enabled", True) is not False})
    return cleaned
