"""The console's bulk-sync form: posted fields to the API's body, a sync back to the form,
and what the form shows for a body (connections, objects, fields)."""

from console.connections.models import Connection
from integrations.base import ConnectorError
from integrations.warehouses.destinations import DESTINATIONS

from . import services
from .models import BulkSync

FREQUENCIES = (("manual", "Only when started"), ("hourly", "Hourly"), ("daily", "Daily"), ("weekly", "Weekly"),
               ("continuous", "Continuously"))
DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


def definition(post) -> dict:
    """The API body for what the form posted. Fields of an object are listed only when some
    of them were unticked (an empty list means every field, new ones included)."""
    schemas = []
    for object_id in post.getlist("schema"):
        shown = post.getlist(f"known:{object_id}")
        ticked = set(post.getlist(f"field:{object_id}"))
        fields = [{"id": f, "enabled": f in ticked} for f in shown] if shown and set(shown) - ticked else []
        schema = {"id": object_id, "enabled": True, "fields": fields}
        if post.get(f"output:{object_id}"):  # a table name given through the API is kept
            schema["user_output_name"] = post[f"output:{object_id}"]
        schemas.append(schema)
    schedule = {"frequency": post.get("frequency") or "manual"}
    for name in ("minute", "hour", "day_of_week"):
        if post.get(name, "").strip():
            schedule[name] = post[name].strip()
    return {
        "name": post.get("name", ""),
        "source_connection_id": post.get("source_connection_id", ""),
        "destination_connection_id": post.get("destination_connection_id", ""),
        "destination_configuration": {"schema": post.get("destination_schema", ""),
                                      "deleted_records": post.get("deleted_records") or "mark"},
        "default_schedule": schedule,
        "mode": post.get("mode") or "replicate",
        "active": post.get("active") == "on",
        "schemas": schemas,
    }


def from_sync(sync: BulkSync) -> dict:
    data = services.bulk_sync_data(sync)
    data["schemas"] = sync.enabled_schemas()
    return data


def blank() -> dict:
    return {"name": "", "source_connection_id": "", "destination_connection_id": "", "active": True,
            "destination_configuration": {"schema": "", "deleted_records": "mark"}, "mode": "replicate",
            "default_schedule": {"frequency": "manual"}, "schemas": []}


def context(organization, data: dict) -> dict:
    """What the form shows: the choices, and the chosen source's objects with their fields."""
    connections = Connection.objects.filter(organization=organization)
    sources = [c for c in connections if c.type in services.SOURCES]
    source = next((c for c in sources if str(c.pk) == data["source_connection_id"]), None)
    chosen = {s["id"]: s for s in data["schemas"]}
    objects, problem = [], ""
    if source:
        try:
            for obj in services.source_objects(source):
                schema = chosen.get(obj["id"])
                item = {**obj, "selected": schema is not None, "fields": [],
                        "output_name": (schema or {}).get("user_output_name", "")}
                if schema is not None:
                    enabled = {f["id"]: f["enabled"] for f in schema.get("fields") or []}
                    item["fields"] = [{**f, "ticked": enabled.get(f["id"], True)}
                                      for f in services.source_fields(source, obj["id"])]
                objects.append(item)
        except ConnectorError as error:
            problem = str(error)
    return {
        "data": data,
        "sources": sources,
        "source": source,
        "objects": objects,
        "problem": problem,
        "destinations": [c for c in connections if c.type in DESTINATIONS],
        "frequencies": FREQUENCIES,
        "days": list(enumerate(DAYS)),
    }
