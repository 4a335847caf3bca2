"""A bulk sync's per-object settings beyond the field selection: row filters, a partition
key and a data cutoff (BulkSchema's filters, partition_key, data_cutoff_timestamp,
disable_data_cutoff), checked against the object's fields and applied by the runs.

Stored in each entry of BulkSync.schemas next to id, enabled, fields and user_output_name.
"""

from django.utils.dateparse import parse_datetime

from console.api.errors import field_error
from console.engine.filters import FUNCTIONS, Condition, RowFilter

SETTINGS = ("filters", "partition_key", "data_cutoff_timestamp", "disable_data_cutoff")


def clean(item: dict, prefix: str, field_ids: list[str], tracking: str | None) -> dict:
    """The settings of one schema entry, or a field_error naming `prefix` + the setting."""
    cleaned = {}
    filters = item.get("filters") or []
    if not isinstance(filters, list):
        raise field_error(f"{prefix}filters", "must be a list of {field_id, function, value}")
    if filters:
        cleaned["filters"] = [clean_filter(f, f"{prefix}filters[{i}].", field_ids) for i, f in enumerate(filters)]
    partition_key = item.get("partition_key")
    if partition_key not in (None, ""):
        if partition_key not in field_ids:
            raise field_error(f"{prefix}partition_key", f"the object has no field '{partition_key}'")
        cleaned["partition_key"] = partition_key
    disable = item.get("disable_data_cutoff")
    if disable is not None and not isinstance(disable, bool):
        raise field_error(f"{prefix}disable_data_cutoff", "must be true or false")
    if disable:
        cleaned["disable_data_cutoff"] = True
    cutoff = item.get("data_cutoff_timestamp")
    if cutoff not in (None, ""):
        moment = parse_datetime(cutoff) if isinstance(cutoff, str) else None
        if moment is None or moment.tzinfo is None:
            raise field_error(f"{prefix}data_cutoff_timestamp", "must be an ISO 8601 time with its offset")
        if not tracking:
            raise field_error(f"{prefix}data_cutoff_timestamp", "the object has no last-modified field to cut by")
        cleaned["data_cutoff_timestamp"] = moment.isoformat()
    chosen_tracking = item.get("tracking_field")
    if chosen_tracking not in (None, "", tracking):
        raise field_error(f"{prefix}tracking_field", f"is chosen by the source: {tracking or 'none'}")
    if item.get("history_enabled"):
        raise field_error(f"{prefix}history_enabled", "no destination here keeps history tables")
    return cleaned


def clean_filter(entry, prefix: str, field_ids: list[str]) -> dict:
    if not isinstance(entry, dict):
        raise field_error(prefix.rstrip("."), "must be an object {field_id, function, value}")
    field_id, function = entry.get("field_id"), entry.get("function")
    if field_id not in field_ids:
        raise field_error(f"{prefix}field_id", f"the object has no field '{field_id}'")
    if function not in FUNCTIONS:
        raise field_error(f"{prefix}function", f"must be one of {', '.join(FUNCTIONS)}")
    return {"field_id": field_id, "function": function, "value": entry.get("value")}


def always_copied(schema: dict) -> set[str]:
    """Fields a run reads whatever the selection: those the filters and the partition key name."""
    return {f["field_id"] for f in schema.get("filters") or []} | (
        {schema["partition_key"]} if schema.get("partition_key") else set())


def row_filter(schema: dict, tracking: str | None) -> RowFilter:
    """Which read records a run writes: every filter holds, and none is older than the cutoff."""
    conditions = [Condition(f["field_id"], f["function"], f.get("value"), "") for f in schema.get("filters") or []]
    if tracking and schema.get("data_cutoff_timestamp") and not schema.get("disable_data_cutoff"):
        conditions.append(Condition(tracking, "OnOrAfter", schema["data_cutoff_timestamp"], ""))
    return RowFilter(conditions)


def out(schema: dict) -> dict:
    """The settings as BulkSchema names them."""
    return {
        "filters": list(schema.get("filters") or []),
        "partition_key": schema.get("partition_key"),
        "data_cutoff_timestamp": schema.get("data_cutoff_timestamp"),
        "disable_data_cutoff": bool(schema.get("disable_data_cutoff")),
        "history_enabled": False,
    }
