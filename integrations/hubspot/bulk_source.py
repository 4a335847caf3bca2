"""HubSpot as a bulk-sync source: CRM objects with their properties, incremental on last-modified.

    objects(session)                      -> [{"id": "contacts", "name": "Contacts"}, ...]
    fields(session, "contacts")           -> [{"id", "name", "type", "remote_type", "is_primary_key"}, ...]
    read = Read(session, "contacts", ["email", ...], since="2026-01-01T00:00:00.000Z")
    for batch in read: ...                # lists of dicts, one page (100 records) at a time
    read.cursor                           # the newest last-modified time read so far

A full read walks the list endpoint page by page (`after`). An incremental read
asks the search endpoint for records whose last-modified property is after the
cursor, oldest first; search stops at 10,000 results per query, so the read
starts a new query from the newest record it has seen whenever it gets there.
With the connection's `use_search_api` off every read walks the list and keeps what changed.
With `include_deleted`, archived records (archivedAt after the cursor) follow
with `_deleted: True`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import httpx

from integrations.base import BOOLEAN, DATE, DATETIME, NUMBER, STRING, ConnectionFailed, ConnectorError
from integrations.responses import provider_words

KEY = "id"
STANDARD_OBJECTS = (("contacts", "Contacts"), ("companies", "Companies"), ("deals", "Deals"), ("tickets", "Tickets"))
PAGE_SIZE = 100
SEARCH_PAGE_SIZE = 200
SEARCH_LIMIT = 10_000  # results one search query can page through
TYPES = {"number": NUMBER, "bool": BOOLEAN, "date": DATE, "datetime": DATETIME}


def request(session, method: str, path: str, **kwargs) -> dict | None:
    """The JSON body of a HubSpot call; None for a 404; errors in HubSpot's words."""
    try:
        response = session.http.request(method, path, **kwargs)
    except httpx.HTTPError as error:
        raise ConnectionFailed(f"Could not reach HubSpot: {error}") from None
    if response.status_code == 404:
        return None
    if response.status_code == 401:
        raise ConnectionFailed(f"HubSpot refused the credentials: {provider_words(response)}")
    if response.status_code >= 400:
        raise ConnectorError(f"HubSpot answered {response.status_code}: {provider_words(response)}")
    return response.json()


def tracking_field(object_id: str, field_ids=()) -> str:
    """The last-modified property: contacts have their own name for it."""
    return "lastmodifieddate" if object_id == "contacts" else "hs_lastmodifieddate"


def properties(session, object_id: str) -> list[dict] | None:
    body = request(session, "GET", f"crm/v3/properties/{object_id}", params={"archived": "false"})
    return None if body is None else body.get("results", [])


def objects(session) -> list[dict]:
    """The standard objects this account answers for, then its custom objects."""
    found = [{"id": object_id, "name": name} for object_id, name in STANDARD_OBJECTS
             if properties(session, object_id) is not None]
    custom = request(session, "GET", "crm/v3/schemas") or {}
    found += [{"id": s.get("fullyQualifiedName") or s["objectTypeId"], "name": (s.get("labels") or {}).get("plural")
               or s.get("name")} for s in custom.get("results", [])]
    return found


def fields(session, object_id: str) -> list[dict]:
    found = properties(session, object_id)
    if found is None:
        raise ConnectorError(f"HubSpot has no object {object_id!r}.")
    key = {"id": KEY, "name": "Record ID", "type": STRING, "remote_type": "id", "is_primary_key": True}
    return [key] + [
        {"id": p["name"], "name": p.get("label") or p["name"], "type": TYPES.get(p.get("type"), STRING),
         "remote_type": p.get("type") or "string", "is_primary_key": False}
        for p in found
    ]


def epoch_ms(value: str) -> int:
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


class Read:
    """One pass over an object's records changed since `since` (all of them when None)."""

    def __init__(self, session, object_id: str, field_ids: list[str], since: str | None = None,
                 include_deleted: bool = True):
        self.session = session
        self.object_id = object_id
        self.tracking = tracking_field(object_id)
        self.properties = list(dict.fromkeys([self.tracking] + [f for f in field_ids if f != KEY]))
        self.since = since
        self.include_deleted = include_deleted
        self.use_search = session.config.get("use_search_api", True)
        self.cursor = since

    def __iter__(self) -> Iterator[list[dict]]:
        pages = self.search() if self.since and self.use_search else self.listed(archived=False)
        for batch in pages:
            if batch:
                self.cursor = max([self.cursor or ""] + [r[self.tracking] or "" for r in batch]) or None
                yield batch
        if self.include_deleted:
            for batch in self.listed(archived=True):
                if batch:
                    yield batch

    def listed(self, archived: bool) -> Iterator[list[dict]]:
        params = {"limit": PAGE_SIZE, "properties": ",".join(self.properties), "archived": str(archived).lower()}
        since = epoch_ms(self.since) if self.since else None
        while True:
            page = request(self.session, "GET", f"crm/v3/objects/{self.object_id}", params=params) or {}
            changed = [raw for raw in page.get("results", [])
                       if since is None or epoch_ms(self.changed_at(raw, archived)) > since]
            yield [self.record(raw) for raw in changed]
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return
            params["after"] = after

    def changed_at(self, raw: dict, archived: bool) -> str:
        if archived:
            return raw.get("archivedAt") or raw.get("updatedAt")
        return (raw.get("properties") or {}).get(self.tracking) or raw.get("updatedAt")

    def search(self) -> Iterator[list[dict]]:
        since, operator, after = self.since, "GT", None
        while True:
            body = {
                "filterGroups": [{"filters": [{"propertyName": self.tracking, "operator": operator,
                                               "value": str(epoch_ms(since))}]}],
                "sorts": [{"propertyName": self.tracking, "direction": "ASCENDING"}],
                "properties": self.properties,
                "limit": SEARCH_PAGE_SIZE,
            }
            if after:
                body["after"] = after
            page = request(self.session, "POST", f"crm/v3/objects/{self.object_id}/search", json=body) or {}
            batch = [self.record(raw) for raw in page.get("results", [])]
            yield batch
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return
            if int(after) >= SEARCH_LIMIT:  # start a fresh query from the newest record seen
                newest = batch[-1][self.tracking] if batch else None
                if not newest or newest == since:
                    raise ConnectorError(f"More than {SEARCH_LIMIT} HubSpot {self.object_id} share the "
                                         f"last-modified time {since}; turn off use_search_api to read them.")
                since, operator, after = newest, "GTE", None  # re-reads the records at `newest`: upserts

    def record(self, raw: dict) -> dict:
        values = raw.get("properties") or {}
        record = {KEY: str(raw["id"])}
        for name in self.properties:
            value = values.get(name)
            record[name] = None if value == "" else value
        record[self.tracking] = record[self.tracking] or raw.get("updatedAt")
        record["_deleted"] = bool(raw.get("archived"))
        return record
