"""What a connection holds: a warehouse's tables or a SaaS source's objects, their fields,
and a few of their records. Workers call `discover` without a deadline; a web request
calls `sample` inside a probe slot with the slot's deadline."""

import json

from console.connections.files import file_root
from console.connections.models import Connection
from console.connections.services import (
    connection_config,
    connection_type,
    secrets_kept_out,
    warehouse_endpoint,
)
from console.connections.sessions import provider_session
from console.engine.ratelimit import limiter_for
from integrations import registry
from integrations.base import Table
from integrations.warehouses import get_source

# The console's column types where the SDK's field types (UtilFieldType) name them otherwise.
FIELD_TYPES = {"integer": "number", "date": "datetime"}


def is_warehouse(connection: Connection) -> bool:
    return connection_type(connection.type).kind == "warehouse"


def supported(connection: Connection) -> bool:
    return is_warehouse(connection) or connection.type in registry.bulk_sources()


def open_warehouse(connection: Connection, deadline: float | None):
    return get_source(connection.type, connection_config(connection),
                      endpoint=warehouse_endpoint(connection_type(connection.type)), files=file_root(),
                      deadline=deadline)


def open_session(connection: Connection, deadline: float | None):
    limiter = limiter_for(connection) if deadline is None else None
    return provider_session(connection, limiter=limiter, deadline=deadline)


def column_field(column) -> dict:
    return {"id": column.name, "name": column.name, "type": FIELD_TYPES.get(column.type, column.type),
            "remote_type": column.type, "is_primary_key": False}


@secrets_kept_out
def discover(connection: Connection) -> list[dict]:
    """[{"id", "name", "table", "fields": [{"id", "name", "type", "remote_type", "is_primary_key"}]}]."""
    if is_warehouse(connection):
        with open_warehouse(connection, None) as source:
            return [{"id": table.qualified_name, "name": table.qualified_name,
                     "table": {"schema": table.schema, "name": table.name},
                     "fields": [column_field(column) for column in source.table_columns(table)]}
                    for table in source.list_tables()]
    module = registry.bulk_sources()[connection.type]
    session = open_session(connection, None)
    try:
        return [{"id": item["id"], "name": item["name"], "table": {},
                 "fields": [{**field, "type": FIELD_TYPES.get(field["type"], field["type"])}
                            for field in module.fields(session, item["id"])]}
                for item in module.objects(session)]
    finally:
        session.http.close()


@secrets_kept_out
def sample(connection: Connection, schema_id: str, table: dict, field_ids: list[str], limit: int,
           deadline: float) -> list[dict]:
    """Up to `limit` records of one table or object, as JSON values."""
    if is_warehouse(connection):
        with open_warehouse(connection, deadline) as source:
            _, rows = source.preview(source.table_query(Table(**table)), limit=limit)
    else:
        module = registry.bulk_sources()[connection.type]
        session = open_session(connection, deadline)
        try:
            rows = next(iter(module.Read(session, schema_id, field_ids)), [])[:limit]
        finally:
            session.http.close()
    return json.loads(json.dumps(rows, default=str))
