"""HubSpot targets: contacts, companies, and every manual or snapshot list.

Object ids: "contacts", "companies", and "list:<listId>" for a list (members are
matched to records on the identity, then added to or removed from the list).
Field ids are HubSpot property names from the properties API.
"""

from integrations.base import BOOLEAN, DATE, DATETIME, NUMBER, STRING, TargetField, TargetObject
from integrations.provider import Targets
from integrations.targets import get_json, mode, request_json

LABEL = "HubSpot"
API = "crm/v3"
LIST_PREFIX = "list:"
OBJECT_TYPES = {"0-1": "contacts", "0-2": "companies"}
OBJECT_NAMES = {"contacts": "Contacts", "companies": "Companies"}
IDENTITIES = {"contacts": ("email", "hs_object_id"), "companies": ("domain", "hs_object_id")}
TYPES = {"number": NUMBER, "date": DATE, "datetime": DATETIME, "bool": BOOLEAN}
PAGE_SIZE = 100


def record_modes():
    return (
        mode("updateOrCreate", per_field=True, description="Update records that match the identity and create the rest."),
        mode("create", per_field=True, description="Create records that do not exist yet; never change existing ones."),
        mode("update", per_field=True, description="Update records that already exist; never create new ones."),
    )


def list_modes():
    return (
        mode("create", description="Add the matching records to the list."),
        mode("remove", description="Take the matching records off the list."),
    )


def objects(session):
    found = [TargetObject(name, label, record_modes()) for name, label in OBJECT_NAMES.items()]
    for item in lists(session):
        kind = OBJECT_TYPES.get(item.get("objectTypeId"))
        if kind and item.get("processingType") in ("MANUAL", "SNAPSHOT"):
            found.append(TargetObject(f"{LIST_PREFIX}{item['listId']}", f"List: {item['name']}", list_modes()))
    return found


def lists(session) -> list[dict]:
    offset, found = 0, []
    while True:
        body = request_json(session, "POST", f"{API}/lists/search", json={
            "query": "", "offset": offset, "count": PAGE_SIZE, "processingTypes": ["MANUAL", "SNAPSHOT"],
        })
        found += body.get("lists") or []
        if not body.get("hasMore"):
            return found
        offset = body.get("offset") or offset + PAGE_SIZE


def object_type(session, object_id) -> str:
    if object_id in OBJECT_NAMES:
        return object_id
    if object_id and object_id.startswith(LIST_PREFIX):
        body = get_json(session, f"{API}/lists/{object_id[len(LIST_PREFIX):]}")
        listed = body.get("list") or body
        return OBJECT_TYPES.get(listed.get("objectTypeId"), "contacts")
    raise KeyError(object_id)


def fields(session, object_id, properties=None):
    kind = object_type(session, object_id)
    identity_only = object_id.startswith(LIST_PREFIX)  # a list only needs to find the record
    body = get_json(session, f"{API}/properties/{kind}", params={"archived": "false"})
    found = []
    for prop in sorted(body.get("results") or [], key=lambda p: (p.get("displayOrder", 0) < 0, p.get("label") or p["name"])):
        meta = prop.get("modificationMetadata") or {}
        writable = not meta.get("readOnlyValue") and not prop.get("calculated")
        identity = prop["name"] in IDENTITIES[kind] or bool(prop.get("hasUniqueValue"))
        if identity_only and not identity:
            continue
        if not identity and (not writable or prop.get("hidden")):
            continue
        found.append(TargetField(
            id=prop["name"],
            name=prop.get("label") or prop["name"],
            type=TYPES.get(prop.get("type"), STRING),
            identity=identity,
            createable=writable and not identity_only,
            updateable=writable and not identity_only,
            description=prop.get("description") or "",
            values=tuple((option["value"], option.get("label") or option["value"])
                         for option in prop.get("options") or () if not option.get("hidden")),
        ))
    if not any(f.id == "hs_object_id" for f in found):
        found.append(TargetField("hs_object_id", "Record ID", STRING, identity=True, createable=False,
                                 updateable=False, description="HubSpot's own record id."))
    return found


def sentence(obj, mode_id, identity):
    matched = f" matched on {identity}" if identity else ""
    if obj.id.startswith(LIST_PREFIX):
        name = obj.name.split(": ", 1)[-1]
        if mode_id == "remove":
            return f"Remove records{matched} from the HubSpot list {name}"
        return f"Add records{matched} to the HubSpot list {name}"
    verbs = {"updateOrCreate": "Upsert", "create": "Create", "update": "Update"}
    return f"{verbs.get(mode_id, mode_id)} {obj.name} in HubSpot{matched}"


TARGETS = Targets(label=LABEL, objects=objects, fields=fields, sentence=sentence)
