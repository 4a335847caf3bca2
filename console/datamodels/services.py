"""Models: a SQL query or a table over a warehouse connection, or what a SaaS provider's
model source reads (a Salesforce object or SOQL query, a HubSpot object), and the fields it yields.

Definitions come in the API's shape ({name, connection_id, configuration:
{query | table | ...}, identifier, labels, tracking_columns, fields}); problems come
out as `ApiError`s naming the field, so the API and the console show the same
text. Warehouse and provider refusals carry their own message, never a secret.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from django.db import transaction

from console.api.errors import ApiError, field_error
from console.connections import probes
from console.connections.models import Connection
from console.connections.files import file_root
from console.connections.services import connection_config, connection_type, warehouse_endpoint
from integrations.base import Column, ConnectionFailed, ConnectorError, QueryError, SourceRefused, Table
from integrations.warehouses import get_source
from integrations.warehouses.readonly import QueryRefused

from .models import DataModel, ModelField

PREVIEW_ROWS = 20
NAME_LENGTH = 200


# ---- sources ----------------------------------------------------------------


def open_source(connection: Connection, deadline: float | None = None):
    """A WarehouseSource for a warehouse connection (connects on first use; close it), bounded
    by a web request's probe `deadline` when given."""
    kind = connection_type(connection.type)
    if kind.kind != "warehouse":
        raise field_error("connection_id", f"{connection.name} is a {kind.name} connection, not a warehouse")
    return get_source(connection.type, connection_config(connection), endpoint=warehouse_endpoint(kind),
                      files=file_root(), deadline=deadline)


def model_source(connection: Connection):
    """The ModelSource of a SaaS connection that offers one; None for a warehouse."""
    kind = connection_type(connection.type)
    if kind.kind == "warehouse":
        return None
    if kind.provider is None or kind.provider.model_source is None:
        raise field_error("connection_id", f"{connection.name} is a {kind.name} connection, which models cannot "
                                           "read from")
    return kind.provider.model_source


@contextmanager
def source_session(connection: Connection, deadline: float | None = None, **options):
    """A provider session for a model's reads (a worker's `options`: limiter, rate_wait); closed after."""
    from console.connections.sessions import provider_session

    session = provider_session(connection, deadline=deadline, **options)
    try:
        yield session
    finally:
        session.http.close()


def warehouse_error(connection: Connection, error: ConnectorError) -> ApiError:
    if isinstance(error, QueryRefused):
        return field_error("configuration.query", str(error))
    if isinstance(error, SourceRefused):
        return refused(error)
    if isinstance(error, QueryError):
        source = "warehouse" if model_source(connection) is None else connection_type(connection.type).name
        return ApiError(400, f"The {source} rejected the query: {error}", key="query_error",
                        metadata={"connection_id": str(connection.pk), "warehouse_message": str(error)})
    if isinstance(error, ConnectionFailed):
        return ApiError(400, f"Could not reach the connection {connection.name!r}: {error}",
                        key="connection_error", metadata={"connection_id": str(connection.pk)})
    return ApiError(400, f"{connection.name}: {error}", key="connection_error",
                    metadata={"connection_id": str(connection.pk)})


def parse_table(text: str) -> Table:
    schema, _, name = text.strip().rpartition(".")
    return Table(schema, name)


def model_query(configuration: dict, source) -> str:
    if configuration.get("query"):
        return configuration["query"]
    return source.table_query(parse_table(configuration["table"]))


def list_tables(connection: Connection) -> list[str]:
    """The tables (or the provider's objects) a model may read."""
    source = model_source(connection)
    try:
        if source is not None:
            with probes.slot() as deadline, source_session(connection, deadline) as session:
                return source.items(session)[source.requires_one_of[0]]
        with probes.slot() as deadline, open_source(connection, deadline) as source:
            return [t.qualified_name for t in source.list_tables()]
    except ConnectorError as error:
        raise warehouse_error(connection, error) from None


def find_table(source, text: str) -> Table:
    """The warehouse's own table for "schema.table" or "table" (any case)."""
    wanted = parse_table(text)
    tables = source.list_tables()
    for table in tables:
        if table.name.lower() == wanted.name.lower() and (
                not wanted.schema or table.schema.lower() == wanted.schema.lower()):
            return table
    known = ", ".join(t.qualified_name for t in tables[:20]) or "none"
    raise field_error("configuration.table", f"no table '{text}' in the warehouse (tables: {known})")


def describe(connection: Connection, configuration: dict, rows: int = 0) -> tuple[list[Column], list[dict]]:
    """The columns (and the first `rows` rows) the configuration yields; a query is sent once."""
    saas = model_source(connection)
    try:
        if saas is not None:
            with probes.slot() as deadline, source_session(connection, deadline) as session:
                columns = saas.fields(session, configuration)
                found = [row for batch in saas.read(session, configuration, [c.name for c in columns], rows,
                                                     limit=rows) for row in batch] if rows else []
                return columns, found
        with probes.slot() as deadline, open_source(connection, deadline) as source:
            if configuration.get("table"):
                table = find_table(source, configuration["table"])
                found = source.preview(source.table_query(table), rows)[1] if rows else []
                return source.table_columns(table), found
            if rows:
                return source.preview(configuration["query"], rows)
            return source.describe_query(configuration["query"]), []
    except ConnectorError as error:
        raise warehouse_error(connection, error) from None


# ---- what a connection offers models (GET .../modelsync/source[/fields]) -------


def source_options(connection: Connection) -> dict:
    """The configuration keys a model over the connection takes, with the choices of each."""
    saas = model_source(connection)
    if saas is None:
        items = {"query": None, "table": list_tables(connection), "tracking_columns": None}
        requires = ["query", "table"]
    else:
        try:
            with probes.slot() as deadline, source_session(connection, deadline) as session:
                items, requires = saas.items(session), list(saas.requires_one_of)
        except ConnectorError as error:
            raise warehouse_error(connection, error) from None
    return {"items": {key: {"has_items": bool(values), "items": values,
                            "requires_one_of": [k for k in requires if k != key] if key in requires else None}
                      for key, values in items.items()},
            "requires_one_of": requires}


def source_columns(connection: Connection, configuration) -> list[Column]:
    """The fields a model with this configuration would have."""
    configuration = clean_configuration(configuration, model_source(connection))
    return describe(connection, configuration)[0]


# ---- definitions ------------------------------------------------------------


@dataclass
class Definition:
    """A checked request body."""

    name: str
    connection: Connection
    configuration: dict
    identifier: str = ""
    labels: list = field(default_factory=list)
    tracking_fields: list = field(default_factory=list)
    fields: list | None = None  # limits the exposed fields when given


def organization_connection(organization, connection_id) -> Connection:
    try:
        pk = uuid.UUID(str(connection_id))
    except ValueError:
        pk = None
    connection = Connection.objects.filter(organization=organization, pk=pk).first() if pk else None
    if connection is None:
        raise ApiError(404, f"connection_id: no connection '{connection_id}' in this organization.",
                       key="not_found", metadata={"errors": [{"field": "connection_id", "message": "not found"}]})
    return connection


def clean(organization, data: dict) -> Definition:
    if not isinstance(data, dict):
        raise field_error("body", "must be a JSON object")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise field_error("name", "is required")
    if len(name.strip()) > NAME_LENGTH:
        raise field_error("name", f"must be at most {NAME_LENGTH} characters")
    if not data.get("connection_id"):
        raise field_error("connection_id", "is required")
    connection = organization_connection(organization, data["connection_id"])
    return Definition(
        name=name.strip(),
        connection=connection,
        configuration=clean_configuration(data.get("configuration"), model_source(connection)),
        identifier=clean_name(data.get("identifier"), "identifier"),
        labels=clean_names(data.get("labels"), "labels"),
        tracking_fields=clean_names(data.get("tracking_columns", data.get("tracking_fields")), "tracking_columns"),
        fields=None if data.get("fields") is None else clean_names(data.get("fields"), "fields"),
    )


def clean_configuration(configuration, source=None) -> dict:
    if not isinstance(configuration, dict):
        raise field_error("configuration", "must be an object with a query or a table")
    if source is not None:
        try:
            return source.clean(configuration)
        except SourceRefused as error:
            raise refused(error) from None
    query, table = configuration.get("query"), configuration.get("table")
    if query and table:
        raise field_error("configuration", "give either a query or a table, not both")
    if query:
        if not isinstance(query, str) or not query.strip():
            raise field_error("configuration.query", "must be SQL text")
        return {"query": query.strip()}
    if table:
        if not isinstance(table, str) or not table.strip():
            raise field_error("configuration.table", "must be a table name such as PUBLIC.USERS")
        return {"table": table.strip()}
    raise field_error("configuration", "needs a query (custom SQL) or a table")


def refused(error: SourceRefused) -> ApiError:
    """A 400 naming the configuration key the source refused."""
    return field_error("configuration" if error.key == "configuration" else f"configuration.{error.key}", str(error))


def clean_name(value, path: str) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str):
        raise field_error(path, "must be a string")
    return value.strip()


def clean_names(value, path: str) -> list[str]:
    if value in (None, ""):
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise field_error(path, "must be a list of names")
    return [v.strip() for v in value]


def chosen_columns(definition: Definition, columns: list[Column]) -> list[Column]:
    """The columns to keep, after checking every name the definition gives against them."""
    by_name = {c.name.lower(): c for c in columns}
    known = ", ".join(c.name for c in columns) or "none"

    def check(name, path):
        if name.lower() not in by_name:
            raise field_error(path, f"the query has no column '{name}' (columns: {known})")

    for i, name in enumerate(definition.fields or []):
        check(name, f"fields[{i}]")
    if definition.fields:
        wanted = {n.lower() for n in definition.fields}
        columns = [c for c in columns if c.name.lower() in wanted]
    if definition.identifier:
        check(definition.identifier, "identifier")
    for i, name in enumerate(definition.tracking_fields):
        check(name, f"tracking_columns[{i}]")
    return columns


# ---- create, update, preview ------------------------------------------------


def preview(organization, data: dict, rows: int = PREVIEW_ROWS) -> tuple[Definition, list[Column], list[dict]]:
    definition = clean(organization, data)
    columns, found = describe(definition.connection, definition.configuration, rows)
    columns = chosen_columns(definition, columns)
    names = {c.name for c in columns}
    return definition, columns, [{k: v for k, v in row.items() if k in names} for row in found]


def create_model(organization, data: dict) -> DataModel:
    definition = clean(organization, data)
    columns, _ = describe(definition.connection, definition.configuration)
    columns = chosen_columns(definition, columns)
    with transaction.atomic():
        model = DataModel(organization=organization)
        apply_definition(model, definition)
        model.save()
        apply_columns(model, columns)
    return model


def update_model(model: DataModel, data: dict) -> tuple[DataModel, "Refresh"]:
    """Full replacement of the definition; fields follow what the warehouse says now."""
    definition = clean(model.organization, data)
    columns, _ = describe(definition.connection, definition.configuration)
    columns = chosen_columns(definition, columns)
    with transaction.atomic():
        apply_definition(model, definition)
        model.save()
        refresh = apply_columns(model, columns)
    return model, refresh


def apply_definition(model: DataModel, definition: Definition):
    model.name = definition.name
    model.connection = definition.connection
    model.configuration = definition.configuration
    model.identifier = definition.identifier
    model.labels = definition.labels
    model.tracking_fields = definition.tracking_fields


@dataclass
class Refresh:
    added: list[str] = field(default_factory=list)
    vanished: list[str] = field(default_factory=list)
    affected_syncs: list[dict] = field(default_factory=list)  # syncs naming a vanished field


def apply_columns(model: DataModel, columns: list[Column]) -> Refresh:
    """Make the model's fields match the columns. A field the columns no longer have
    is kept (marked vanished) while a sync still uses it, deleted otherwise."""
    existing = {f.name.lower(): f for f in model.fields.all()}
    identifier = model.identifier.lower()
    refresh = Refresh()
    for position, column in enumerate(columns):
        current = existing.pop(column.name.lower(), None)
        if current is None:
            refresh.added.append(column.name)
            current = ModelField(model=model, name=column.name)
        current.name = column.name
        current.type = column.type
        current.remote_type = column.remote_type
        current.label = column.label
        current.position = position
        current.unique = column.name.lower() == identifier
        current.vanished = False
        current.save()
    gone = list(existing.values())
    if gone:
        usage = syncs_using(model, [f.name for f in gone])
        used = {name.lower() for sync in usage for name in sync["fields"]}
        for old in gone:
            if old.name.lower() in used:
                old.vanished = True
                old.unique = False
                old.save(update_fields=["vanished", "unique"])
            else:
                old.delete()
        refresh.vanished = [f.name for f in gone]
        refresh.affected_syncs = usage
    return refresh


def refresh_fields(model: DataModel) -> Refresh:
    columns, _ = describe(model.connection, model.configuration)
    with transaction.atomic():
        return apply_columns(model, columns)


def syncs_using(model: DataModel, names: list[str] | None = None) -> list[dict]:
    """Syncs of the model, each with the model fields it uses (only those in `names` when given)."""
    from console.syncs.services import source_fields

    wanted = {n.lower() for n in names} if names is not None else None
    found = []
    for sync in model.syncs.order_by("name", "id"):
        used = []
        for _, name in source_fields(sync):
            if (wanted is None or name.lower() in wanted) and name not in used:
                used.append(name)
        if wanted is None or used:
            found.append({"id": str(sync.pk), "name": sync.name, "fields": used})
    return found


# ---- rows -------------------------------------------------------------------


def model_columns(model: DataModel) -> list[str]:
    return [f.name for f in model.fields.all() if not f.vanished]


def sample(model: DataModel, rows: int = PREVIEW_ROWS) -> list[dict]:
    saas = model_source(model.connection)
    try:
        if saas is not None:
            with probes.slot() as deadline, source_session(model.connection, deadline) as session:
                return [row for batch in saas.read(session, model.configuration, model_columns(model), rows,
                                                   limit=rows) for row in batch]
        with probes.slot() as deadline, open_source(model.connection, deadline) as source:
            _, found = source.preview(model_query(model.configuration, source), rows)
            return found
    except ConnectorError as error:
        raise warehouse_error(model.connection, error) from None


def stream_model_rows(model: DataModel, batch_size: int = 5000, conditions=(), **session_options):
    """The model's rows as lists of dicts of at most batch_size; the warehouse or provider streams
    them. A provider may narrow its reading by the sync's `conditions` (all of which hold)."""
    saas = model_source(model.connection)
    if saas is not None:
        with source_session(model.connection, **session_options) as session:
            yield from saas.read(session, model.configuration, model_columns(model), batch_size,
                                 conditions=conditions)
        return
    with open_source(model.connection) as source:
        yield from source.stream(model_query(model.configuration, source), batch_size)


def jsonable(value):
    """A warehouse value as JSON would carry it."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


# ---- delete -----------------------------------------------------------------


class ModelInUse(Exception):
    def __init__(self, syncs: list[dict]):
        names = ", ".join(repr(s["name"]) for s in syncs)
        super().__init__(f"This model is used by the syncs {names}. Delete them or point them at another model first.")
        self.syncs = syncs


def delete_model(model: DataModel):
    syncs = syncs_using(model)
    if syncs:
        raise ModelInUse(syncs)
    model.delete()


def organization_models(organization):
    return (DataModel.objects.filter(organization=organization).select_related("connection")
            .prefetch_related("fields").order_by("name", "id"))
