"""Every connection type the console offers, by type id. The API, the console forms
and configuration validation all read it from here.

    from integrations import catalogue
    kind = catalogue.get("salesloft")        # ConnectionType or None
    catalogue.json_schema(kind)              # what GET /api/connection_types/{id} answers
"""

from __future__ import annotations

from functools import cache

from integrations import registry
from integrations.base import ConfigField
from integrations.connection_types import Capabilities, ConnectionType
from integrations.provider import Provider
from integrations.warehouses import SOURCES

WAREHOUSE_CAPABILITIES = Capabilities(model_source=True, bulk_sync_source=True)
WAREHOUSE_DESCRIPTIONS = {
    "snowflake": "Cloud data warehouse.",
    "postgresql": "Relational database.",
    "mysql": "Relational database.",
    "sqlite": "A database file on the console's machine (for the demo).",
}
SNOWFLAKE_KEY_PAIR = ConfigField("key_pair_auth", "Use key-pair authentication", type="boolean", default=False,
                                 description="Authenticate with a private key instead of a password.")


def snowflake_problems(config: dict):
    account = SOURCES["snowflake"].account_problem(config.get("account"))
    if account:
        return [("account", account)]
    if config.get("key_pair_auth"):
        return [] if config.get("private_key") else [("private_key", "is required when key_pair_auth is true")]
    if not config.get("password") and not config.get("private_key"):
        return [("password", "is required unless key_pair_auth is true")]
    return []


def warehouse(module) -> ConnectionType:
    fields = tuple(module.CONFIG_FIELDS)
    if module.TYPE_ID == "snowflake":
        fields = fields + (SNOWFLAKE_KEY_PAIR,)
    return ConnectionType(
        id=module.TYPE_ID,
        name=module.NAME,
        kind="warehouse",
        fields=fields,
        capabilities=WAREHOUSE_CAPABILITIES,
        module=module,
        description=WAREHOUSE_DESCRIPTIONS.get(module.TYPE_ID, ""),
        validate=snowflake_problems if module.TYPE_ID == "snowflake" else None,
        file_backed=getattr(module, "FILE_BACKED", False),
    )


@cache
def provider(entry: Provider) -> ConnectionType:
    return ConnectionType(
        id=entry.id,
        name=entry.name,
        kind="api",
        fields=tuple(entry.fields),
        capabilities=entry.capabilities,
        provider=entry,
        oauth=entry.oauth,
        hidden=frozenset(entry.hidden),
        labels=entry.labels,
        items=entry.items,
        parameter_fields=tuple(entry.parameter_fields),
        description=entry.description,
        validate=entry.validate,
    )


WAREHOUSES: dict[str, ConnectionType] = {
    type_id: warehouse(SOURCES[type_id]) for type_id in ("snowflake", "postgresql", "mysql", "sqlite")
    if type_id in SOURCES
}


def by_id() -> dict[str, ConnectionType]:
    """Every type: the warehouses, then the registry's providers."""
    return {**WAREHOUSES, **{entry.id: provider(entry) for entry in registry.providers()}}


def get(type_id: str) -> ConnectionType | None:
    if type_id in WAREHOUSES:
        return WAREHOUSES[type_id]
    entry = registry.get(type_id)
    return provider(entry) if entry is not None else None


def types(files: bool = False) -> list[ConnectionType]:
    """The types to offer; file-backed ones (SQLite) only when the console allows files."""
    return [kind for kind in by_id().values() if files or not kind.file_backed]


def json_schema(kind: ConnectionType) -> dict:
    """The configuration's JSON Schema, annotated the way Polytomic's are
    (`sensitive`, `hidden`, `readOnly`)."""
    properties = {}
    for field in kind.fields:
        prop = {"type": field.type, "title": field.title}
        if field.description:
            prop["description"] = field.description
        if field.choices:
            prop["enum"] = list(field.choices)
        if field.default is not None:
            prop["default"] = field.default
        if field.type == "array":
            prop["items"] = items_schema(kind, field)
        if field.secret:
            prop["sensitive"] = True
            prop["writeOnly"] = True
        if field.readonly:
            prop["readOnly"] = True
        if field.name in kind.hidden:
            prop["hidden"] = True
        properties[field.name] = prop
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:sync-console:connection-type:{kind.id}",
        "title": kind.name,
        "type": "object",
        "properties": properties,
        "required": [f.name for f in kind.fields if f.required],
    }


def items_schema(kind: ConnectionType, field: ConfigField) -> dict:
    """An array field's item schema, its secret keys annotated like secret fields."""
    items = kind.items.get(field.name, {"type": "string"})
    if not field.secret_keys:
        return items
    properties = {name: dict(schema) for name, schema in items.get("properties", {}).items()}
    for name in field.secret_keys:
        properties[name] = {**properties.get(name, {"type": "string"}), "sensitive": True, "writeOnly": True}
    return {**items, "properties": properties}
