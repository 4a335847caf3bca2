"""Sync definitions: checked against the target's discovery and the model's fields,
stored in the API's own shapes, read back as the API's ModelSyncV5Response.

`create_sync` / `update_sync` take the request body as a plain dict (the API and
the console builder both speak it) and raise `field_error` naming the first field
that is wrong.
"""

import re
import time
import uuid
from dataclasses import dataclass, field

from croniter import croniter
from django.db import transaction

from console import egress
from console.api.errors import ApiError, field_error
from console.connections.models import Connection
from console.datamodels.models import DataModel, ModelField
from console.engine.models import ACTIVE_STATUSES, ExecutionStatus
from console.engine.schedule import next_run_time
from console.targets import services as targets
from integrations.base import MODES, ConnectorError, TargetField, TargetObject

from .models import Sync

CANCEL_WAIT_SECONDS = 3.0  # how long a delete waits for a run being canceled to end

IDENTITY_FUNCTIONS = ("Equality", "ISubstring", "OneOf", "DomainMatch", "HostnameMatch")
FIELD_SYNC_MODES = ("updateOrCreate", "create")
FREQUENCIES = ("manual", "continuous", "hourly", "daily", "weekly", "custom", "builder", "runafter")
CRON_FIELDS = ("minute", "hour", "day_of_month", "month", "day_of_week")
FILTER_FUNCTIONS = (
    "Equality", "Inequality", "IsNull", "IsNotNull", "True", "False", "OnOrAfter", "OnOrBefore",
    "GreaterThan", "GreaterThanEqual", "LessThan", "LessThanEqual", "StringContains",
    "StringStartsWith", "StringEndsWith", "StringDoesNotContain", "StringDoesNotStartWith",
    "StringDoesNotEndWith", "StringOneOf", "StringNotOneOf", "Between", "ArrayContains",
    "ArrayDoesNotContain", "InTheLast", "RelativeOnOrBefore", "RelativeOnOrAfter", "StringLike",
    "StringNotLike", "StringMatchesTrimmed",
)
WRITING_MODES = ("create", "updateOrCreate")  # modes that create records: required fields matter
LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

SCHEDULE_OPTIONS = [
    ("manual", "Manual", "Runs only when started from the console or the API.", {}),
    ("continuous", "Continuous", "Runs again as soon as the previous run ends (at most every few minutes).", {}),
    ("hourly", "Hourly", "Every hour at the given minute (UTC).", {"minute": "Minute (0-59)"}),
    ("daily", "Daily", "Once a day at the given time (UTC).", {"hour": "Hour (0-23)", "minute": "Minute (0-59)"}),
    ("weekly", "Weekly", "Once a week on the given day and time (UTC).",
     {"day_of_week": "Day of week (0=Sunday ... 6=Saturday)", "hour": "Hour (0-23)", "minute": "Minute (0-59)"}),
    ("custom", "Cron expression", "A cron schedule (minute hour day-of-month month day-of-week, UTC).",
     {"minute": "Minute", "hour": "Hour", "day_of_month": "Day of month", "month": "Month", "day_of_week": "Day of week"}),
    ("builder", "Custom schedule", "The same five cron fields, built in the console.",
     {"minute": "Minute", "hour": "Hour", "day_of_month": "Day of month", "month": "Month", "day_of_week": "Day of week"}),
    ("runafter", "Run after other syncs", "Runs when the listed syncs finish.", {"run_after": "Syncs to follow"}),
]


@dataclass
class Target:
    """The resolved target of a definition: its object, fields and modes."""

    connection: Connection
    obj: TargetObject
    fields: dict = field(default_factory=dict)  # id -> TargetField
    new: bool = False

    def mode(self, mode_id):
        return next((m for m in self.obj.modes if m.id == mode_id), None)


# ---- reading and writing ---------------------------------------------------


def create_sync(organization, data: dict, user=None) -> Sync:
    values = clean(organization, data)
    sync = Sync(organization=organization, created_by=user, updated_by=user, **values)
    sync.next_run_at = planned_run(sync)
    sync.save()
    return sync


def update_sync(sync: Sync, data: dict, user=None) -> Sync:
    """Full replacement: what the body leaves out is reset."""
    values = clean(sync.organization, data, sync=sync)
    if values["target_create"] and values["target_create"] == sync.target_create and sync.target_object:
        values["target_object"] = sync.target_object  # the audience a run already created
    with transaction.atomic():
        sync = Sync.objects.select_for_update().get(pk=sync.pk)
        for name, value in values.items():
            setattr(sync, name, value)
        sync.updated_by = user
        sync.next_run_at = planned_run(sync)
        sync.save()
    return sync


def set_active(sync: Sync, active: bool, user=None, confirmation=None) -> Sync:
    """Activating a sync of an irreversible target takes its confirmation again (confirmed())."""
    if active and not sync.active:
        for option in confirmation_options(sync.target_connection, sync.target_object):
            if not confirms(option, confirmation):
                raise field_error(option.name, confirmation_message(option))
    sync.active = active
    sync.updated_by = user
    sync.next_run_at = planned_run(sync)
    sync.save(update_fields=["active", "updated_by", "next_run_at", "updated_at"])
    return sync


def delete_sync(sync: Sync):
    """A run being canceled ends within seconds (lifecycle.Heartbeat); the delete waits for it."""
    runs = sync.executions.filter(status__in=ACTIVE_STATUSES, dry_run=False)
    waited_until = time.monotonic() + CANCEL_WAIT_SECONDS
    while runs.filter(status=ExecutionStatus.CANCELING).exists() and time.monotonic() < waited_until:
        time.sleep(0.1)
    if runs.exists():
        raise ApiError(409, "The sync is running; cancel the run before deleting the sync.",
                       key="sync_running")
    sync.delete()


def planned_run(sync: Sync):
    return next_run_time(sync.schedule) if sync.active else None


def sync_data(sync: Sync) -> dict:
    """The ModelSyncV5Response of a sync: what was stored, never `target.create`."""
    target = {"connection_id": str(sync.target_connection_id), "object": sync.target_object or None,
              "configuration": sync.target_configuration or {}}
    if sync.target_new_name:
        target["new_name"] = sync.target_new_name
    if sync.target_search_values is not None:
        target["search_values"] = sync.target_search_values
    return {
        **summary_data(sync),
        "target": target,
        "identity": sync.identity,
        "identities": {"mappings": sync.identities, "strategy": sync.identity_strategy or None},
        "fields": sync.fields,
        "override_fields": sync.override_fields,
        "overrides": sync.overrides,
        "filters": sync.filters,
        "filter_logic": sync.filter_logic or None,
        "model_filters": sync.model_filters,
        "target_filters": sync.target_filters,
        "policies": sync.policies,
        "problems": problems(sync),
    }


# the columns list_item reads: the list leaves the other JSON columns undecoded
LIST_ITEM_FIELDS = ("id", "organization", "name", "active", "mode", "model", "schedule", "sync_all_records",
                    "skip_initial_backfill", "only_enrich_updates", "created_at", "updated_at", "created_by",
                    "updated_by", "target_connection", "target_object")


def list_item(sync: Sync) -> dict:
    """The slim ListSyncItem of GET /api/syncs."""
    return {
        **summary_data(sync),
        "target_connection_id": str(sync.target_connection_id),
        "target_object": sync.target_object or None,
    }


def summary_data(sync: Sync) -> dict:
    return {
        "id": str(sync.pk),
        "organization_id": str(sync.organization_id),
        "name": sync.name,
        "active": sync.active,
        "mode": sync.mode,
        "model_ids": [str(sync.model_id)],
        "schedule": sync.schedule,
        "sync_all_records": sync.sync_all_records,
        "skip_initial_backfill": sync.skip_initial_backfill,
        "only_enrich_updates": sync.only_enrich_updates,
        "created_at": sync.created_at,
        "updated_at": sync.updated_at,
        "created_by": actor(sync.created_by),
        "updated_by": actor(sync.updated_by),
    }


def actor(user) -> dict | None:
    return {"id": str(user.pk), "name": user.email, "type": "user"} if user else None


def problems(sync: Sync) -> list[dict]:
    """Source fields the sync names that the model no longer has (no provider call)."""
    known = {name.lower() for name in ModelField.objects.filter(model_id=sync.model_id, vanished=False)
             .values_list("name", flat=True)}
    found = []
    for path, name in source_fields(sync):
        if name.lower() not in known:
            found.append({"code": "model_field_missing", "path": path, "severity": "error",
                          "message": f"The model has no field '{name}' any more."})
    return found


def source_fields(sync: Sync):
    for i, mapping in enumerate(sync.identities or ([sync.identity] if sync.identity else [])):
        yield f"identities.mappings[{i}].source.field", mapping["source"]["field"]
    for i, item in enumerate(sync.fields or []):
        if (item.get("source") or {}).get("field"):
            yield f"fields[{i}].source.field", item["source"]["field"]


def schedule_options() -> list[dict]:
    return [
        {"frequency": frequency, "label": label, "description": description,
         "configuration": {"type": "object",
                           "properties": {name: ({"type": "object", "title": title} if name == "run_after"
                                                 else {"type": "string", "title": title})
                                          for name, title in options.items()}}}
        for frequency, label, description, options in SCHEDULE_OPTIONS
    ]


# ---- validation ------------------------------------------------------------


def clean(organization, data: dict, sync: Sync | None = None) -> dict:
    """The Sync column values for a request body, or the first field_error."""
    if not isinstance(data, dict):
        raise field_error("body", "must be a JSON object")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise field_error("name", "is required")
    mode_id = data.get("mode")
    if mode_id not in MODES:
        raise field_error("mode", f"must be one of {', '.join(MODES)}")
    target = resolve_target(organization, data.get("target"))
    mode = target.mode(mode_id)
    if mode is None:
        supported = ", ".join(m.id for m in target.obj.modes) or "none"
        raise field_error("mode", f"'{mode_id}' is not supported by {target.obj.name}; supported: {supported}")
    model = resolve_model(organization, data)
    model_fields = {f.name.lower(): f for f in ModelField.objects.filter(model=model, vanished=False)}
    checker = Checker(model, model_fields, target, mode)

    identities, strategy = checker.identities(data)
    if mode.requires_identity and not identities:
        raise field_error("identity", f"mode '{mode_id}' on {target.obj.name} needs an identity to match records on")
    fields, overrides_from_fields = checker.fields(data.get("fields"))
    override_fields = overrides_from_fields + checker.override_fields(data.get("override_fields"))
    checker.unique_targets(identities, fields, override_fields)
    if mode_id in WRITING_MODES:
        checker.required_mapped(identities, fields, override_fields)
    model_filters, target_filters = checker.filters(data)
    configuration = clean_configuration(target, confirmed(target, (data.get("target") or {}).get("configuration")))
    create = clean_creation(target, (data.get("target") or {}).get("create")) if target.new else None
    schedule = clean_schedule(organization, data.get("schedule"), sync)
    return {
        "name": name.strip(),
        "active": boolean(data, "active", True),
        "mode": mode_id,
        "model": model,
        "target_connection": target.connection,
        "target_object": "" if target.new else target.obj.id,
        "target_create": create,
        "target_configuration": configuration,
        "target_new_name": str((data.get("target") or {}).get("new_name") or ""),
        "target_search_values": (data.get("target") or {}).get("search_values"),
        "identity": identities[0] if identities else None,
        "identities": identities,
        "identity_strategy": strategy,
        "fields": fields,
        "override_fields": override_fields,
        "overrides": checker.overrides(data.get("overrides")),
        "model_filters": model_filters,
        "target_filters": target_filters,
        "filters": deprecated_filters(model_filters, target_filters),
        "filter_logic": (model_filters or {}).get("logic") or "",
        "schedule": schedule,
        "sync_all_records": boolean(data, "sync_all_records", False),
        "skip_initial_backfill": boolean(data, "skip_initial_backfill", False),
        "only_enrich_updates": boolean(data, "only_enrich_updates", False),
        "policies": [str(p) for p in data.get("policies") or []],
    }


def boolean(data, name, default):
    value = data.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise field_error(name, "must be true or false")
    return value


def resolve_target(organization, target) -> Target:
    if not isinstance(target, dict):
        raise field_error("target", "is required: {connection_id, object} or {connection_id, create}")
    connection_id = target.get("connection_id")
    connection = Connection.objects.filter(organization=organization, pk=uuid_or_none(connection_id)).first()
    if connection is None:
        raise field_error("target.connection_id", f"no connection '{connection_id}' in this organization")
    if not targets.supports(connection):
        raise field_error("target.connection_id", f"a {connection.type} connection cannot be a sync target")
    object_id, create = target.get("object"), target.get("create")
    if bool(object_id) == bool(create):
        raise field_error("target.object", "give exactly one of target.object or target.create")
    try:
        if create:
            if not isinstance(create, dict):
                raise field_error("target.create", "must be an object of creation properties")
            check_creation_keys(connection, create)
            obj, found = targets.new_target(connection, create)
            return Target(connection, obj, {f.id: f for f in found}, new=True)
        obj = targets.find_object(connection, str(object_id))
        found, _ = targets.fields(connection, obj.id)
    except targets.UnknownTarget as error:
        raise field_error("target.create" if create else "target.object", str(error)) from None
    except ConnectorError as error:
        raise ApiError(400, f"Could not read the target's objects: {error}", key="target_discovery_failed") from None
    return Target(connection, obj, {f.id: f for f in found})


def check_creation_keys(connection, create: dict):
    properties = targets.creation(connection)["properties"]
    if not properties:
        raise field_error("target.create", "this connection cannot create target objects")
    known = {p["id"] for p in properties}
    for key in create:
        if key not in known:
            raise field_error(f"target.create.{key}", f"unknown property; expected {', '.join(sorted(known))}")
    for prop in properties:
        if not str(create.get(prop["id"]) or "").strip():
            raise field_error(f"target.create.{prop['id']}", f"is required ({prop['title']})")


def clean_creation(target: Target, create: dict) -> dict:
    """Each enum property must hold one of the values the provider offers."""
    for prop in targets.creation(target.connection)["properties"]:
        if not prop["enum"]:
            continue
        try:
            values = [v["value"] for v in targets.creation_property(target.connection, prop["id"])["values"]]
        except ConnectorError as error:
            raise ApiError(400, f"Could not read the values of {prop['id']}: {error}", key="target_discovery_failed") from None
        if str(create[prop["id"]]) not in values:
            shown = ", ".join(values[:5]) + (", ..." if len(values) > 5 else "")
            raise field_error(f"target.create.{prop['id']}", f"'{create[prop['id']]}' is not one of: {shown or 'no values'}")
    return {key: str(value) for key, value in create.items()}


def resolve_model(organization, data) -> DataModel:
    """The one model every source names (identity, fields, filters)."""
    for path, source in sources(data):
        model_id = source.get("model_id")
        if not model_id:
            raise field_error(f"{path}.model_id", "is required")
        model = DataModel.objects.filter(organization=organization, pk=uuid_or_none(model_id)).first()
        if model is None:
            raise field_error(f"{path}.model_id", f"no model '{model_id}' in this organization")
        for other_path, other in sources(data):
            if other.get("model_id") and str(other["model_id"]) != str(model_id):
                raise field_error(f"{other_path}.model_id", "every source must name the same model")
        return model
    raise field_error("fields", "map at least one source field (or an identity) from a model")


def sources(data):
    """(path, source dict) for every model source a body names."""
    identities = data.get("identities")
    mappings = identities.get("mappings") if isinstance(identities, dict) else None
    if mappings:
        for i, mapping in enumerate(mappings):
            if isinstance(mapping, dict) and isinstance(mapping.get("source"), dict):
                yield f"identities.mappings[{i}].source", mapping["source"]
    elif isinstance(data.get("identity"), dict) and isinstance(data["identity"].get("source"), dict):
        yield "identity.source", data["identity"]["source"]
    for i, item in enumerate(data.get("fields") or []):
        if isinstance(item, dict) and isinstance(item.get("source"), dict):
            yield f"fields[{i}].source", item["source"]
    for i, item in enumerate(((data.get("model_filters") or {}).get("conditions")) or []):
        if isinstance(item, dict) and isinstance(item.get("source"), dict):
            yield f"model_filters.conditions[{i}].source", item["source"]


def uuid_or_none(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


class Checker:
    """Checks the parts of a body against one model and one target."""

    def __init__(self, model, model_fields, target: Target, mode):
        self.model = model
        self.model_fields = model_fields
        self.target = target
        self.mode = mode
        self.free_fields = targets.accepts_new_fields(target.connection)

    def source(self, path, source) -> dict:
        if not isinstance(source, dict) or not source.get("field"):
            raise field_error(f"{path}.field", "is required")
        name = str(source["field"])
        if name.lower() not in self.model_fields:
            known = ", ".join(f.name for f in self.model_fields.values()) or "none"
            raise field_error(f"{path}.field", f"the model {self.model.name} has no field '{name}' (fields: {known})")
        return {"model_id": str(source.get("model_id") or self.model.pk), "field": name}

    def target_field(self, path, field_id) -> TargetField | None:
        if not isinstance(field_id, str) or not field_id:
            raise field_error(path, "is required")
        found = self.target.fields.get(field_id)
        if found is None and not self.free_fields:
            raise field_error(path, f"{self.target.obj.name} has no field '{field_id}'")
        return found

    def writable(self, path, field_id):
        found = self.target_field(path, field_id)
        if found is None:
            return
        mode = self.mode.id
        if mode == "create" and not found.createable or mode == "update" and not found.updateable or (
            not found.createable and not found.updateable
        ):
            raise field_error(path, f"'{field_id}' cannot be written in mode {mode}")

    def identities(self, data):
        identities = data.get("identities")
        if isinstance(identities, dict) and identities.get("mappings") is not None:
            mappings, prefix = identities.get("mappings"), "identities.mappings"
            strategy = identities.get("strategy") or ""
            if not isinstance(mappings, list):
                raise field_error("identities.mappings", "must be a list")
        elif data.get("identity"):
            mappings, prefix, strategy = [data["identity"]], None, ""
        else:
            return [], ""
        if len(mappings) > 1:
            raise field_error("identities.mappings", f"{self.target.obj.name} matches records on one identity")
        if strategy and strategy not in ("priority", "and"):
            raise field_error("identities.strategy", "must be priority or and")
        cleaned = []
        for i, mapping in enumerate(mappings):
            path = f"{prefix}[{i}]" if prefix else "identity"
            if not isinstance(mapping, dict):
                raise field_error(path, "must be an object {source, target, function}")
            found = self.target_field(f"{path}.target", mapping.get("target"))
            if found is not None and not found.identity:
                candidates = ", ".join(f.id for f in self.target.fields.values() if f.identity)
                raise field_error(f"{path}.target", f"records cannot be matched on '{found.id}' (candidates: {candidates})")
            item = {
                "source": self.source(f"{path}.source", mapping.get("source")),
                "target": mapping["target"],
                "function": identity_function(f"{path}.function", mapping.get("function")),
            }
            for key in ("new_field", "remote_field_type_id"):
                if mapping.get(key) is not None:
                    item[key] = mapping[key]
            cleaned.append(item)
        return cleaned, strategy

    def fields(self, items):
        """(mapped fields, constants): a mapping with a value and no source is a constant."""
        if items is None:
            return [], []
        if not isinstance(items, list):
            raise field_error("fields", "must be a list")
        mapped, constants = [], []
        for i, item in enumerate(items):
            path = f"fields[{i}]"
            if not isinstance(item, dict):
                raise field_error(path, "must be an object {source, target}")
            self.writable(f"{path}.target", item.get("target"))
            sync_mode = self.field_sync_mode(f"{path}.sync_mode", item.get("sync_mode"))
            if item.get("source"):
                cleaned = {"source": self.source(f"{path}.source", item["source"]), "target": item["target"]}
                for key in ("override_value", "new", "encryption_enabled"):
                    if item.get(key) is not None:
                        cleaned[key] = item[key]
                if sync_mode:
                    cleaned["sync_mode"] = sync_mode
                mapped.append(cleaned)
            elif item.get("override_value") is not None:
                constants.append(self.constant(item, sync_mode))
            else:
                raise field_error(f"{path}.source", "give a source field or an override_value")
        return mapped, constants

    def override_fields(self, items):
        if items is None:
            return []
        if not isinstance(items, list):
            raise field_error("override_fields", "must be a list")
        constants = []
        for i, item in enumerate(items):
            path = f"override_fields[{i}]"
            if not isinstance(item, dict):
                raise field_error(path, "must be an object {target, override_value}")
            self.writable(f"{path}.target", item.get("target"))
            if item.get("override_value") is None:
                raise field_error(f"{path}.override_value", "is required")
            constants.append(self.constant(item, self.field_sync_mode(f"{path}.sync_mode", item.get("sync_mode"))))
        return constants

    def constant(self, item, sync_mode):
        cleaned = {"target": item["target"], "override_value": str(item["override_value"])}
        if item.get("new") is not None:
            cleaned["new"] = item["new"]
        if sync_mode:
            cleaned["sync_mode"] = sync_mode
        return cleaned

    def field_sync_mode(self, path, value):
        if value in (None, ""):
            return None
        if value not in FIELD_SYNC_MODES:
            raise field_error(path, f"must be one of {', '.join(FIELD_SYNC_MODES)}")
        if value != "updateOrCreate" and not self.mode.supports_per_field_mode:
            raise field_error(path, f"mode {self.mode.id} on {self.target.obj.name} has no per-field modes")
        return value

    def unique_targets(self, identities, fields, constants):
        seen = set()
        for path, item in [(f"fields[{i}].target", f) for i, f in enumerate(fields)] + [
            (f"override_fields[{i}].target", c) for i, c in enumerate(constants)
        ]:
            if item["target"] in seen:
                raise field_error(path, f"'{item['target']}' is mapped more than once")
            seen.add(item["target"])

    def required_mapped(self, identities, fields, constants):
        mapped = {i["target"] for i in identities} | {f["target"] for f in fields} | {c["target"] for c in constants}
        for found in self.target.fields.values():
            if found.required and found.id not in mapped:
                raise field_error("fields", f"the required target field '{found.id}' ({found.name}) is not mapped")

    def filters(self, data):
        model_filters, target_filters = data.get("model_filters"), data.get("target_filters")
        if model_filters is None and target_filters is None and data.get("filters"):
            model_filters, target_filters = split_deprecated(data.get("filters"), data.get("filter_logic"))
        return self.model_filters(model_filters), self.target_filters(target_filters)

    def model_filters(self, value):
        if not value:
            return None
        conditions = []
        for i, condition in enumerate(value.get("conditions") or []):
            path = f"model_filters.conditions[{i}]"
            item = {"source": self.source(f"{path}.source", condition.get("source")),
                    "function": filter_function(f"{path}.function", condition.get("function"))}
            conditions.append(with_value_and_label(path, condition, item))
        return {"conditions": conditions, "logic": check_logic("model_filters.logic", value.get("logic"), conditions)}

    def target_filters(self, value):
        if not value:
            return None
        if value.get("conditions") and not self.mode.supports_target_filters:
            raise field_error("target_filters", f"mode {self.mode.id} on {self.target.obj.name} takes no target filters")
        conditions = []
        for i, condition in enumerate(value.get("conditions") or []):
            path = f"target_filters.conditions[{i}]"
            self.target_field(f"{path}.field", condition.get("field"))
            item = {"field": condition["field"], "function": filter_function(f"{path}.function", condition.get("function"))}
            if condition.get("value_source"):
                item["value_source"] = self.source(f"{path}.value_source", condition["value_source"])
            conditions.append(with_value_and_label(path, condition, item))
        return {"conditions": conditions, "logic": check_logic("target_filters.logic", value.get("logic"), conditions)}

    def overrides(self, items):
        cleaned = []
        for i, item in enumerate(items or []):
            path = f"overrides[{i}]"
            if not isinstance(item, dict):
                raise field_error(path, "must be an object")
            entry = {key: item[key] for key in ("field_id", "value", "override") if item.get(key) is not None}
            if item.get("field"):
                entry["field"] = self.source(f"{path}.field", item["field"])
            if item.get("function"):
                entry["function"] = filter_function(f"{path}.function", item["function"])
            cleaned.append(entry)
        return cleaned


def identity_function(path, value) -> str:
    if value in (None, ""):
        return "Equality"
    for name in IDENTITY_FUNCTIONS:
        if str(value).lower() == name.lower():
            return name
    raise field_error(path, f"must be one of {', '.join(IDENTITY_FUNCTIONS)}")


def filter_function(path, value) -> str:
    for name in FILTER_FUNCTIONS:
        if str(value or "").lower() == name.lower():
            return name
    raise field_error(path, "is not a filter function (e.g. Equality, IsNotNull, GreaterThan)")


def with_value_and_label(path, condition, item):
    if "value" in condition:
        item["value"] = condition["value"]
    if condition.get("label"):
        if not LABEL.match(str(condition["label"])):
            raise field_error(f"{path}.label", "starts with a letter or _ and holds letters, digits and _")
        item["label"] = condition["label"]
    return item


def check_logic(path, logic, conditions):
    if not logic:
        return None
    labels = {c.get("label") for c in conditions if c.get("label")}
    for token in re.findall(r"[A-Za-z_][A-Za-z0-9_]*|\S", logic):
        if token in ("(", ")") or token.lower() in ("and", "or"):
            continue
        if token not in labels:
            raise field_error(path, f"'{token}' is not the label of a condition")
    return logic


def split_deprecated(filters, logic):
    """The deprecated `filters` list as model_filters and target_filters."""
    model, target = [], []
    for i, item in enumerate(filters):
        if not isinstance(item, dict):
            raise field_error(f"filters[{i}]", "must be an object")
        condition = {key: item[key] for key in ("function", "value", "label") if key in item}
        if item.get("field_type") == "Target":
            condition["field"] = item.get("field_id") or (item.get("field") or {}).get("field")
            target.append(condition)
        else:
            condition["source"] = item.get("field") or {"field": item.get("field_id")}
            model.append(condition)
    return (
        {"conditions": model, "logic": logic} if model else None,
        {"conditions": target} if target else None,
    )


def deprecated_filters(model_filters, target_filters) -> list[dict]:
    found = []
    for condition in (model_filters or {}).get("conditions") or []:
        found.append({"field": condition["source"], "field_type": "Model",
                      **{k: condition[k] for k in ("function", "value", "label") if k in condition}})
    for condition in (target_filters or {}).get("conditions") or []:
        found.append({"field_id": condition["field"], "field_type": "Target",
                      **{k: condition[k] for k in ("function", "value", "label") if k in condition}})
    return found


def confirmation_options(connection, object_id) -> list:
    """Options named confirm_* guard an irreversible target (Salesloft's redaction)."""
    return [option for option in targets.configuration_fields(connection, object_id or None)
            if option.name.startswith("confirm_")]


def confirms(option, given) -> bool:
    """true (the API's flag) or the option's word, typed in the console."""
    return given is True or isinstance(given, str) and given.strip().upper() == option.choices[0]


def confirmation_message(option) -> str:
    return f"must be true (in the console: type {option.choices[0]}): {option.description}"


def confirmed(target: Target, configuration):
    """The configuration with each confirmation an irreversible target needs given, as its word."""
    options = [] if target.new else confirmation_options(target.connection, target.obj.id)
    if not options:
        return configuration
    configuration = dict(configuration) if isinstance(configuration, dict) else {}
    for option in options:
        if not confirms(option, configuration.get(option.name)):
            raise field_error(f"target.configuration.{option.name}", confirmation_message(option))
        configuration[option.name] = option.choices[0]
    return configuration


def clean_configuration(target: Target, configuration) -> dict:
    """Known options only, of the right type; defaults filled in."""
    if configuration in (None, ""):
        configuration = {}
    if not isinstance(configuration, dict):
        raise field_error("target.configuration", "must be an object")
    options = {c.name: c for c in targets.configuration_fields(target.connection, None if target.new else target.obj.id)}
    cleaned = {}
    for key, value in configuration.items():
        option = options.get(key)
        path = f"target.configuration.{key}"
        if option is None:
            raise field_error(path, f"is not an option of {target.obj.name}" + (
                f" (options: {', '.join(options)})" if options else ""))
        if value is None or value == "" and option.default is not None:
            continue  # left to the default below
        if option.type == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
            if not (isinstance(value, str) and value.strip().isdigit()):
                raise field_error(path, "must be a whole number")
            value = int(value)
        elif option.type == "boolean" and not isinstance(value, bool):
            raise field_error(path, "must be true or false")
        elif option.type == "array":
            value = names_list(path, value)
        elif option.type == "string":
            value = str(value)
            if option.choices and value and value not in option.choices:
                raise field_error(path, f"must be one of {', '.join(option.choices)}")
        cleaned[key] = value
    for option in options.values():
        if option.name not in cleaned and option.default is not None:
            cleaned[option.name] = option.default
    for key, message in targets.configuration_problems(target.connection, cleaned):
        raise field_error(f"target.configuration.{key}", message)
    for option in options.values():
        refused = option.address == "url" and cleaned.get(option.name) and egress.url_problem(cleaned[option.name])
        if refused:
            raise field_error(f"target.configuration.{option.name}", refused)
    return cleaned


def names_list(path, value) -> list[str]:
    """A list of names, given as a list of strings or as "a, b"."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise field_error(path, "must be a list of names, e.g. [\"internal_id\"]")
    return [name.strip() for name in value if name.strip()]


def clean_schedule(organization, schedule, sync=None) -> dict:
    if not isinstance(schedule, dict):
        raise field_error("schedule", "is required, e.g. {\"frequency\": \"manual\"}")
    frequency = schedule.get("frequency") or "manual"
    if frequency not in FREQUENCIES:
        raise field_error("schedule.frequency", f"must be one of {', '.join(FREQUENCIES)}")
    cleaned = {"frequency": frequency}
    for name in CRON_FIELDS:
        value = schedule.get(name)
        if value not in (None, ""):
            cleaned[name] = str(value).strip()
    if frequency in ("hourly", "daily", "weekly"):
        check_number(cleaned, "minute", 0, 59, required=True)
    if frequency in ("daily", "weekly"):
        check_number(cleaned, "hour", 0, 23, required=True)
    if frequency == "weekly":
        check_number(cleaned, "day_of_week", 0, 6, required=True)
    if frequency in ("custom", "builder"):
        check_cron(cleaned)
    if frequency == "runafter":
        cleaned["run_after"] = clean_run_after(organization, schedule.get("run_after"), sync)
        if schedule.get("run_after_success_only") is not None:
            cleaned["run_after_success_only"] = bool(schedule["run_after_success_only"])
    return cleaned


def check_number(schedule, name, low, high, required=False):
    value = schedule.get(name)
    if value is None:
        if required:
            raise field_error(f"schedule.{name}", f"is required for a {schedule['frequency']} schedule")
        return
    if not value.isdigit() or not low <= int(value) <= high:
        raise field_error(f"schedule.{name}", f"must be a number from {low} to {high} (as a string, e.g. \"{low}\")")


def check_cron(schedule):
    for i, name in enumerate(CRON_FIELDS):
        parts = ["*"] * 5
        parts[i] = schedule.get(name, "*")
        if not croniter.is_valid(" ".join(parts)):
            raise field_error(f"schedule.{name}", f"'{schedule.get(name)}' is not a valid cron {name.replace('_', ' ')}")
    expression = " ".join(schedule.get(name, "*") for name in CRON_FIELDS)
    if not croniter.is_valid(expression):
        raise field_error("schedule", f"'{expression}' is not a valid cron schedule")


def clean_run_after(organization, run_after, sync=None) -> dict:
    if not isinstance(run_after, dict):
        raise field_error("schedule.run_after", "is required for a runafter schedule: {sync_ids: [...]}")
    if run_after.get("bulk_sync_ids"):
        raise field_error("schedule.run_after.bulk_sync_ids", "bulk syncs are not supported here")
    ids = run_after.get("sync_ids")
    if not isinstance(ids, list) or not ids:
        raise field_error("schedule.run_after.sync_ids", "list at least one sync to run after")
    for sync_id in ids:
        if sync and str(sync_id) == str(sync.pk):
            raise field_error("schedule.run_after.sync_ids", "a sync cannot run after itself")
        if not Sync.objects.filter(organization=organization, pk=uuid_or_none(sync_id)).exists():
            raise field_error("schedule.run_after.sync_ids", f"no sync '{sync_id}' in this organization")
    return {"sync_ids": [str(i) for i in ids]}


# ---- plain words -----------------------------------------------------------

DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


def schedule_words(schedule: dict, names: dict | None = None) -> str:
    """"every hour at :15", "every day at 05:00 UTC", ...; names maps sync ids to names."""
    schedule = schedule or {}
    frequency = schedule.get("frequency") or "manual"
    minute = str(schedule.get("minute") or "0").zfill(2)
    hour = str(schedule.get("hour") or "0").zfill(2)
    if frequency == "manual":
        return "only when started by hand"
    if frequency == "continuous":
        return "continuously"
    if frequency == "hourly":
        return f"every hour at :{minute}"
    if frequency == "daily":
        return f"every day at {hour}:{minute} UTC"
    if frequency == "weekly":
        day = schedule.get("day_of_week") or "0"
        day = DAYS[int(day)] if day.isdigit() and int(day) < 7 else day
        return f"every {day} at {hour}:{minute} UTC"
    if frequency in ("custom", "builder"):
        return "on the cron schedule " + " ".join(schedule.get(n, "*") for n in CRON_FIELDS) + " (UTC)"
    if frequency == "runafter":
        ids = (schedule.get("run_after") or {}).get("sync_ids") or []
        followed = ", ".join((names or {}).get(str(i), str(i)) for i in ids)
        condition = " succeeds" if schedule.get("run_after_success_only") else " finishes"
        return f"after {followed}{condition}"
    return frequency


def target_object(sync: Sync) -> TargetObject:
    """The sync's target object as discovery last saw it (its id when discovery fails)."""
    connection = sync.target_connection
    if sync.target_create and not sync.target_object:
        try:
            return targets.new_target_object(connection, sync.target_create)
        except ConnectorError:
            return TargetObject("", sync.target_create.get("name") or "a new target")
    try:
        return targets.find_object(connection, sync.target_object)
    except ConnectorError:
        return TargetObject(sync.target_object, sync.target_object)


def describe(sync: Sync) -> str:
    """The whole definition in one sentence: what, where, matched on what, when."""
    obj = target_object(sync)
    identity = (sync.identity or {}).get("target")
    try:
        what = targets.sentence(sync.target_connection, obj, sync.mode, identity)
    except ConnectorError:
        what = f"{sync.mode} {obj.name}"
    if sync.target_create and not sync.target_object:
        what = f"Create {obj.name} in {targets.provider_label(sync.target_connection)}, then: {what[0].lower()}{what[1:]}"
    names = dict(Sync.objects.filter(organization_id=sync.organization_id).values_list("pk", "name"))
    return f"{what}; {schedule_words(sync.schedule, {str(k): v for k, v in names.items()})}."
