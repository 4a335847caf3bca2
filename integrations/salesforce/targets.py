"""Salesforce targets: every writable sObject from describeGlobal, plus "multi:leadOrContact".

Object ids are sObject API names ("Contact", "Customer_Score__c"); "multi:leadOrContact"
matches a Contact first and falls back to a Lead, creating records as
`create_records_as` says. Field ids are field API names from describe. A field can
be the identity when it is the record Id, an External ID or an idLookup field
(e.g. Email).
"""

from integrations.base import (
    BOOLEAN, DATE, DATETIME, INTEGER, NUMBER, STRING, ConfigField, TargetField, TargetObject,
)
from integrations.provider import Targets
from integrations.targets import get_json, mode

LABEL = "Salesforce"
LEAD_OR_CONTACT = "multi:leadOrContact"

TYPES = {
    "boolean": BOOLEAN,
    "int": INTEGER,
    "long": INTEGER,
    "double": NUMBER,
    "currency": NUMBER,
    "percent": NUMBER,
    "date": DATE,
    "datetime": DATETIME,
}


def object_modes():
    return (
        mode("updateOrCreate", per_field=True, description="Update records that match the identity and create the rest."),
        mode("create", per_field=True, description="Create records that do not exist yet; never change existing ones."),
        mode("update", per_field=True, target_filters=True, description="Update records that already exist; never create new ones."),
        mode("remove", description="Delete the Salesforce records that match the identity."),
    )


def objects(session):
    body = get_json(session, "sobjects")
    found = [TargetObject(LEAD_OR_CONTACT, "Lead or Contact", object_modes()[:3])]
    for sobject in sorted(body.get("sobjects") or [], key=lambda s: s.get("label") or s["name"]):
        if sobject.get("createable") or sobject.get("updateable"):
            found.append(TargetObject(sobject["name"], sobject.get("label") or sobject["name"], object_modes()))
    return found


def describe(session, name) -> dict:
    return get_json(session, f"sobjects/{name}/describe")


def fields(session, object_id, properties=None):
    if object_id == LEAD_OR_CONTACT:
        return lead_or_contact_fields(session)
    return describe_fields(describe(session, object_id))


def describe_fields(described: dict) -> list[TargetField]:
    found = []
    for field in described.get("fields") or []:
        is_id = field["name"] == "Id"
        identity = is_id or bool(field.get("externalId")) or bool(field.get("idLookup"))
        writable = field.get("createable") or field.get("updateable")
        if not (writable or identity):
            continue
        found.append(TargetField(
            id=field["name"],
            name=field.get("label") or field["name"],
            type=TYPES.get(field.get("type"), STRING),
            required=bool(
                field.get("createable") and not field.get("nillable")
                and not field.get("defaultedOnCreate") and field.get("type") != "boolean"
            ),
            identity=identity,
            createable=bool(field.get("createable")),
            updateable=bool(field.get("updateable")),
            description=field_description(field),
            values=tuple((entry["value"], entry.get("label") or entry["value"])
                         for entry in field.get("picklistValues") or () if entry.get("active", True)),
        ))
    return found


def field_description(field) -> str:
    parts = [field.get("type") or ""]
    if field.get("externalId"):
        parts.append("External ID")
    if field.get("referenceTo"):
        parts.append("references " + ", ".join(field["referenceTo"]))
    if field.get("inlineHelpText"):
        parts.append(field["inlineHelpText"])
    return "; ".join(p for p in parts if p)


def lead_or_contact_fields(session) -> list[TargetField]:
    """Contact's fields, then Lead's own; a field is required only when both require it."""
    contact = {f.id: f for f in describe_fields(describe(session, "Contact"))}
    lead = {f.id: f for f in describe_fields(describe(session, "Lead"))}
    merged = []
    for field_id, field in list(contact.items()) + [(k, v) for k, v in lead.items() if k not in contact]:
        other = lead.get(field_id) if field_id in contact else None
        both = other is not None
        merged.append(TargetField(
            id=field.id,
            name=field.name,
            type=field.type,
            required=field.required and both and other.required,
            identity=field.identity and (both or field_id in ("Id",)),
            createable=field.createable,
            updateable=field.updateable,
            values=field.values,
            description=field.description if both else f"{'Contact' if field_id in contact else 'Lead'} only; {field.description}",
        ))
    return merged


BATCH_FIELDS = [
    ConfigField("bulk_batch_size", "Bulk batch size", "integer", "Records per Bulk API batch."),
    ConfigField("concurrency_mode", "Concurrency mode", choices=("Parallel", "Serial"),
                description="Serial avoids lock contention on shared parent records."),
]
INGESTION = ConfigField("ingestion_api", "Ingestion API", required=True, default="automatic",
                        choices=("automatic", "bulk", "rest"),
                        description="Bulk for large volumes, REST for small ones; automatic picks by volume.")
REST_BATCH = ConfigField("rest_batch_size", "REST batch size", "integer", "Records per REST call (at most 200).")
NULLS = ConfigField("insert_null_values", "Copy null values", "boolean", "Write empty source values as blanks.",
                    default=False)
RELATIONSHIPS = ConfigField("invalid_relationships", "Records with invalid relationship IDs", required=True,
                            default="error", choices=("error", "omit_values", "omit_records"))
DIFFERENT = ConfigField("only_sync_different", "Only update if different from Salesforce", "boolean",
                        "Read the records first and skip the ones Salesforce already holds.", default=False)
SORT = ConfigField("sort_batches_by", "Sort batches by", required=True,
                   description="A field to group records by in batches (e.g. AccountId) to avoid lock errors.")


def configuration_fields(object_id):
    if object_id == LEAD_OR_CONTACT:
        return [
            *BATCH_FIELDS,
            ConfigField("create_records_as", "Create new records as", required=True, default="Lead",
                        choices=("Contact", "Lead", "ContactIfAccountId")),
            INGESTION,
            REST_BATCH,
        ]
    common = [*BATCH_FIELDS, INGESTION, NULLS, RELATIONSHIPS, DIFFERENT, REST_BATCH, SORT]
    if object_id == "Lead":
        return [
            *common,
            ConfigField("ignore_invalid_references", "Ignore invalid external ID references", "boolean", default=False),
            ConfigField("skip_converted", "Ignore converted and duplicate Leads", "boolean", default=False),
        ]
    return common


def sentence(obj, mode_id, identity):
    matched = f" matched on {identity}" if identity else ""
    verbs = {"updateOrCreate": "Upsert", "create": "Create", "update": "Update", "remove": "Delete"}
    records = "Leads or Contacts" if obj.id == LEAD_OR_CONTACT else f"{obj.name} records"
    return f"{verbs.get(mode_id, mode_id)} {records} in Salesforce{matched}"


TARGETS = Targets(label=LABEL, objects=objects, fields=fields, sentence=sentence,
                  configuration_fields=configuration_fields)
