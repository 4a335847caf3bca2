"""HubSpot as a model source: a CRM object (`object`: contacts, companies, deals or a custom
object) whose properties are the fields.

A read walks the list endpoint page by page (`after`). When the sync filters on
properties the way HubSpot's search can (equality, one of, has / has not a value,
ranges on numbers and dates), the read asks the search endpoint with those filters
instead; search stops at 10,000 results per query, so the read starts a new query
after the last record id it has seen whenever it gets there. The engine applies
the sync's filters to every row still, so search only ever narrows the reading.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import islice

from integrations.base import Column, SourceRefused
from integrations.provider import ModelSource

from . import bulk_source
from .bulk_source import KEY, PAGE_SIZE, SEARCH_LIMIT, SEARCH_PAGE_SIZE, TYPES, request

OPERATORS = {"Equality": "EQ", "StringOneOf": "IN", "IsNotNull": "HAS_PROPERTY", "IsNull": "NOT_HAS_PROPERTY"}
RANGES = {"GreaterThan": "GT", "GreaterThanEqual": "GTE", "LessThan": "LT", "LessThanEqual": "LTE",
          "OnOrAfter": "GTE", "OnOrBefore": "LTE"}
RANGED_TYPES = ("number", "date", "datetime")
OBJECT_NAME = re.compile(r"^[A-Za-z0-9_-]+$")  # contacts, 2-123456, p_custom_object


def items(session) -> dict:
    return {"object": [o["id"] for o in bulk_source.objects(session)]}


def clean(configuration: dict) -> dict:
    unknown = sorted(set(configuration) - {"object"})
    if unknown:
        raise SourceRefused(unknown[0], "is not a HubSpot model setting (object)")
    name = configuration.get("object")
    if not isinstance(name, str) or not OBJECT_NAME.match(name.strip()):
        raise SourceRefused("object", "must name a HubSpot object such as contacts or 2-123456")
    return {"object": name.strip()}


def properties(session, object_id: str) -> list[dict]:
    found = bulk_source.properties(session, object_id)
    if found is None:
        raise SourceRefused("object", f"HubSpot has no object '{object_id}'")
    return found


def fields(session, configuration: dict) -> list[Column]:
    key = Column(KEY, "string", "id", "Record ID")
    return [key] + [
        Column(p["name"], TYPES.get(p.get("type"), "string"), p.get("type") or "string", p.get("label") or "",
               tuple(o["value"] for o in p.get("options") or [] if not o.get("hidden")))
        for p in properties(session, configuration["object"])
    ]


def search_filters(conditions, types: dict) -> list[dict]:
    """The sync's conditions HubSpot's search can apply (all of them hold: AND)."""
    found = []
    for condition in conditions:
        name = KEY if condition.column == KEY else condition.column
        if name != KEY and name not in types:
            continue
        operator = OPERATORS.get(condition.function)
        if operator is None and condition.function in RANGES and types.get(name) in RANGED_TYPES:
            operator = RANGES[condition.function]
        if operator is None:
            continue
        check = {"propertyName": "hs_object_id" if name == KEY else name, "operator": operator}
        if operator == "IN":
            values = condition.value if isinstance(condition.value, list) else str(condition.value).split(",")
            check["values"] = [str(v).strip() for v in values]
        elif operator not in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
            check["value"] = str(condition.value)
        found.append(check)
    return found


class Read:
    def __init__(self, session, object_id: str, columns: list[str], filters: list[dict]):
        self.session = session
        self.object_id = object_id
        self.properties = [c for c in columns if c != KEY]
        self.filters = filters

    def __iter__(self) -> Iterator[list[dict]]:
        return self.searched() if self.filters else self.listed()

    def listed(self) -> Iterator[list[dict]]:
        params = {"limit": PAGE_SIZE, "properties": ",".join(self.properties), "archived": "false"}
        while True:
            page = request(self.session, "GET", f"crm/v3/objects/{self.object_id}", params=params) or {}
            yield [self.record(raw) for raw in page.get("results", [])]
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return
            params["after"] = after

    def searched(self) -> Iterator[list[dict]]:
        last_id, after = None, None
        while True:
            filters = self.filters + ([{"propertyName": "hs_object_id", "operator": "GT", "value": last_id}]
                                      if last_id else [])
            body = {"filterGroups": [{"filters": filters}], "properties": self.properties,
                    "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
                    "limit": SEARCH_PAGE_SIZE, **({"after": after} if after else {})}
            page = request(self.session, "POST", f"crm/v3/objects/{self.object_id}/search", json=body) or {}
            batch = [self.record(raw) for raw in page.get("results", [])]
            yield batch
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return
            if int(after) + SEARCH_PAGE_SIZE > SEARCH_LIMIT:  # a new query after the last id seen
                last_id, after = batch[-1][KEY], None

    def record(self, raw: dict) -> dict:
        values = raw.get("properties") or {}
        record = {KEY: str(raw["id"])}
        for name in self.properties:
            value = values.get(name)
            record[name] = None if value == "" else value
        return record


def read(session, configuration: dict, columns: list[str], batch_size: int, limit: int | None = None,
         conditions=()) -> Iterator[list[dict]]:
    object_id = configuration["object"]
    types = {p["name"]: p.get("type") for p in properties(session, object_id)} if conditions else {}
    rows = (row for page in Read(session, object_id, columns, search_filters(conditions, types)) for row in page)
    if limit is not None:
        rows = islice(rows, limit)
    while batch := list(islice(rows, batch_size)):
        yield batch


MODEL_SOURCE = ModelSource(items=items, requires_one_of=("object",), clean=clean, fields=fields, read=read)
