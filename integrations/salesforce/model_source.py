"""Salesforce as a model source: an object (`table`, every field or the model's chosen ones)
or a SOQL `query`, with `include_deleted` reading through queryAll.

Fields come from describe, typed (picklists with their values, references, dates,
numbers). Reads stream: the REST query API page by page (nextRecordsUrl), or, for
an object of more than BULK_THRESHOLD records, a Bulk API 2.0 query job whose CSV
results are paged with Sforce-Locator. Bulk CSV values are read back into the types
the REST API gives, so a record read either way has the same fingerprint.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import islice

from integrations.base import (
    BOOLEAN,
    INTEGER,
    NUMBER,
    STRING,
    Column,
    ConnectorError,
    QueryError,
    SourceRefused,
)
from integrations.provider import ModelSource

from . import bulk_source
from .bulk_source import SKIPPED_TYPES, TYPES, call, send

BULK_THRESHOLD = 50_000  # records above which an object model is read through Bulk API 2.0
PREVIEW_PAGE = 200  # the smallest REST page Salesforce gives
FIELDS_FUNCTION = re.compile(r"^fields\s*\(\s*(all|standard|custom)\s*\)$", re.IGNORECASE)
FROM = re.compile(r"\bfrom\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)
API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")  # an object's API name: Contact, Customer_Score__c


def items(session) -> dict:
    return {"table": [o["id"] for o in bulk_source.objects(session)], "query": None, "include_deleted": None}


def clean(configuration: dict) -> dict:
    table, query = configuration.get("table"), configuration.get("query")
    unknown = sorted(set(configuration) - {"table", "query", "include_deleted"})
    if unknown:
        raise SourceRefused(unknown[0], "is not a Salesforce model setting (table, query, include_deleted)")
    if table is not None and (not isinstance(table, str) or not API_NAME.match(table.strip())):
        raise SourceRefused("table", "must be a Salesforce object's API name such as Contact")
    if query is not None and (not isinstance(query, str) or not query.strip()):
        raise SourceRefused("query", "must be SOQL text")
    if not table and not query:
        raise SourceRefused("configuration", "needs a table (a Salesforce object) or a query (SOQL)")
    include_deleted = configuration.get("include_deleted", False)
    if not isinstance(include_deleted, bool):
        raise SourceRefused("include_deleted", "must be true or false")
    cleaned = {"include_deleted": include_deleted}
    if query:
        cleaned["query"] = query.strip()
        named = FROM.search(cleaned["query"])
        if table and named and named.group(1).lower() != table.strip().lower():
            raise SourceRefused("table", f"names {table.strip()}, but the query reads {named.group(1)}")
    if table:
        cleaned["table"] = table.strip()
    return cleaned


# ---- fields -----------------------------------------------------------------


def described(session, object_name: str) -> dict:
    try:
        return call(session, f"sobjects/{object_name}/describe")
    except ConnectorError as error:
        if " 404:" in str(error):
            raise SourceRefused("table", f"Salesforce has no object '{object_name}'") from None
        raise


def column(field: dict) -> Column:
    remote = field["type"]
    if remote == "reference" and field.get("referenceTo"):
        remote = f"reference({', '.join(field['referenceTo'])})"
    values = tuple(v["value"] for v in field.get("picklistValues") or [] if v.get("active", True))
    return Column(field["name"], TYPES.get(field["type"], STRING), remote, field.get("label") or "", values)


def object_columns(session, object_name: str) -> list[Column]:
    return [column(f) for f in described(session, object_name).get("fields", []) if f["type"] not in SKIPPED_TYPES]


def fields(session, configuration: dict) -> list[Column]:
    if "query" not in configuration:
        return object_columns(session, configuration["table"])
    query = configuration["query"]
    first_page(session, query, configuration["include_deleted"])  # Salesforce's own words for a bad query
    return query_columns(session, query)


def query_object(query: str) -> str:
    found = FROM.search(query)
    if not found:
        raise SourceRefused("query", "names no object: SOQL reads SELECT fields FROM an object")
    return found.group(1)


def select_list(query: str) -> list[str]:
    """The comma-separated items between SELECT and FROM (no subqueries or functions but FIELDS())."""
    head = re.match(r"^\s*select\s+(.*?)\s+from\s", query, re.IGNORECASE | re.DOTALL)
    if not head:
        raise SourceRefused("query", "must start SELECT fields FROM an object")
    found = [item.strip() for item in head.group(1).split(",")]
    for item in found:
        if "(" in item and not FIELDS_FUNCTION.match(item):
            raise SourceRefused("query", f"'{item}': a model's SOQL selects fields and FIELDS(), "
                                         "not functions or subqueries")
    return found


def query_columns(session, query: str) -> list[Column]:
    own = {c.name.lower(): c for c in object_columns(session, query_object(query))}
    relations = None
    found = []
    for item in select_list(query):
        function = FIELDS_FUNCTION.match(item)
        if function:
            kind = function.group(1).lower()
            found += [c for c in own.values()
                      if kind == "all" or (kind == "custom") == c.name.lower().endswith("__c")]
        elif "." in item:
            relations = relations if relations is not None else relationships(session, query_object(query))
            found.append(related_column(session, relations, item))
        elif item.lower() in own:
            found.append(own[item.lower()])
        else:
            raise SourceRefused("query", f"the object {query_object(query)} has no field '{item}'")
    return list({c.name: c for c in found}.values())


def relationships(session, object_name: str) -> dict:
    return {f["relationshipName"].lower(): f["referenceTo"][0]
            for f in described(session, object_name).get("fields", [])
            if f.get("relationshipName") and f.get("referenceTo")}


def related_column(session, relations: dict, path: str) -> Column:
    relation, _, name = path.partition(".")
    parent = relations.get(relation.lower())
    match = parent and next((c for c in object_columns(session, parent) if c.name.lower() == name.lower()), None)
    if not match:
        raise SourceRefused("query", f"no field '{path}' (relationship '{relation}')")
    return Column(f"{relation}.{match.name}", match.type, match.remote_type, match.label, match.values)


# ---- rows -------------------------------------------------------------------


def soql(configuration: dict, columns: list[str], limit: int | None = None) -> str:
    if "query" in configuration:
        return configuration["query"]
    return f"SELECT {', '.join(columns)} FROM {configuration['table']}" + (f" LIMIT {limit}" if limit else "")


def first_page(session, query: str, include_deleted: bool) -> dict:
    try:
        return send(session, "GET", "queryAll" if include_deleted else "query", params={"q": query},
                    headers={"Sforce-Query-Options": f"batchSize={PREVIEW_PAGE}"}).json()
    except ConnectorError as error:
        if " 400:" in str(error):
            raise QueryError(str(error).split(": ", 1)[1]) from None
        raise


def record_count(session, object_name: str) -> int:
    """Salesforce's (approximate) count of the object's records, from /limits/recordCount."""
    found = call(session, "limits/recordCount", sObjects=object_name).get("sObjects") or []
    return next((o.get("count", 0) for o in found if o.get("name", "").lower() == object_name.lower()), 0)


def flat(record: dict, prefix: str = "") -> dict:
    """A REST record without its attributes, relationship fields as Relation.Field."""
    out = {}
    for name, value in record.items():
        if name == "attributes":
            continue
        if isinstance(value, dict) and "attributes" in value:
            out.update(flat(value, f"{prefix}{name}."))
        else:
            out[f"{prefix}{name}"] = value
    return out


def typed(value: str, kind: str):
    """A Bulk CSV value as the REST API gives it (CSV has no null: empty is None)."""
    if value == "":
        return None
    if kind == BOOLEAN:
        return value == "true"
    if kind == INTEGER:
        return int(value)
    if kind == NUMBER:
        return float(value)
    return value


class Read(bulk_source.Read):
    """The records of a model's SOQL: REST pages, or Bulk API 2.0 result sets."""

    def __init__(self, session, configuration: dict, columns: list[str], query_api: str = "rest",
                 limit: int | None = None):
        self.session = session
        self.object_id = configuration.get("table") or query_object(configuration["query"])
        self.query = soql(configuration, columns, limit)
        self.include_deleted = configuration["include_deleted"]
        self.query_api = query_api
        self.tracking = None
        self.types = {}

    def soql(self) -> str:
        return self.query

    def rest_pages(self) -> Iterator[list[dict]]:
        try:
            yield from super().rest_pages()
        except ConnectorError as error:
            if " 400:" in str(error):
                raise QueryError(str(error).split(": ", 1)[1]) from None
            raise

    def bulk_pages(self) -> Iterator[list[dict]]:
        self.types = {c.name: c.type for c in object_columns(self.session, self.object_id)}
        yield from super().bulk_pages()

    def record(self, raw: dict) -> dict:
        if "attributes" in raw:
            return flat(raw)
        return {name: typed(value or "", self.types.get(name, STRING)) for name, value in raw.items()}


def read(session, configuration: dict, columns: list[str], batch_size: int, limit: int | None = None,
         conditions=()) -> Iterator[list[dict]]:
    """The model's rows in lists of at most batch_size; at most `limit` rows when given."""
    large = limit is None and "query" not in configuration
    bulk = large and record_count(session, configuration["table"]) > BULK_THRESHOLD
    rows = (row for page in Read(session, configuration, columns, "bulk" if bulk else "rest", limit)
            for row in page)
    if limit is not None:
        rows = islice(rows, limit)
    while batch := list(islice(rows, batch_size)):
        yield batch


MODEL_SOURCE = ModelSource(items=items, requires_one_of=("table", "query"), clean=clean, fields=fields, read=read)
