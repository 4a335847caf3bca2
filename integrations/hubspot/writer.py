"""HubSpot writers: contacts and companies through the CRM v3 batch endpoints, and list memberships.

Records are matched on the identity property:
- a unique property (a contact's email, a property with a unique value): `updateOrCreate`
  is one batch upsert on it; `create` and `update` read the batch first (batch read).
- a company's domain (not unique in HubSpot): a search on the domains, then batch update
  the companies found and batch create the rest.
- hs_object_id: batch update by record id (nothing can be created from an id).

Every input carries an `objectWriteTraceId` (its position in the batch) so HubSpot's
results and per-input errors (207) come back to the record they belong to; each
refused record keeps HubSpot's own message.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from integrations.base import ConnectionFailed, ConnectorError, RateLimited, RecordOutcome, Writer
from integrations.responses import provider_words

from .targets import LIST_PREFIX

API = "crm/v3"
BATCH_MAX = 100
SEARCH_PAGE = 200
RECORD_ID = "hs_object_id"
SINGULAR = {"contacts": "contact", "companies": "company"}
DEFAULT_IDENTITY = {"contacts": "email", "companies": "domain"}
ALWAYS_UNIQUE = {"contacts": ("email",), "companies": ()}


def make_writer(session, spec) -> Writer:
    object_id = spec.object_id or ""
    if object_id in SINGULAR:
        return ObjectWriter(session, spec)
    if object_id.startswith(LIST_PREFIX):
        return ListWriter(session, spec)
    raise ConnectorError(f"HubSpot has no target object {object_id!r}.")


def hubspot_value(value) -> str | bool | int | float:
    """A value HubSpot accepts: dates as YYYY-MM-DD, times as ISO 8601 UTC, nothing as "" (clears)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (str, bool, int, float)):
        return value
    return str(value)


def key_of(property_name: str, value) -> str:
    """How HubSpot compares identity values: emails and domains without case."""
    text = str(value).strip()
    return text.lower() if property_name in ("email", "domain") else text


class HubSpotCalls:
    """The HTTP side shared by the writers: errors in HubSpot's words, auth and 5xx stop the batch."""

    def __init__(self, session):
        self.http = session.http

    def call(self, method: str, path: str, **kwargs):
        response = self.http.request(method, f"{API}/{path}", **kwargs)
        if response.status_code == 401:
            raise ConnectionFailed(f"HubSpot refused the credentials: {provider_words(response)}")
        if response.status_code == 403:
            raise ConnectionFailed(f"HubSpot refused the call (missing scopes?): {provider_words(response)}")
        if response.status_code == 429:
            raise RateLimited(f"HubSpot rate limit: {provider_words(response)}",
                              float(response.headers.get("Retry-After") or 10))
        if response.status_code >= 500:
            raise ConnectorError(f"HubSpot answered {response.status_code} to {method} {path}: "
                                 f"{provider_words(response)}")
        return response

    def json(self, method: str, path: str, **kwargs) -> dict:
        response = self.call(method, path, **kwargs)
        if response.status_code >= 400:
            raise ConnectorError(f"HubSpot refused {method} {path}: {provider_words(response)}")
        return response.json() if response.content else {}


class ObjectWriter(Writer, HubSpotCalls):
    batch_size = BATCH_MAX

    def __init__(self, session, spec):
        HubSpotCalls.__init__(self, session)
        self.kind = spec.object_id
        self.mode = spec.mode
        if self.mode not in ("updateOrCreate", "create", "update"):
            raise ConnectorError(f"HubSpot {self.kind} cannot be written in {self.mode} mode.")
        self.identity = spec.identity_field or DEFAULT_IDENTITY[self.kind]
        self.unique = set(ALWAYS_UNIQUE[self.kind]) | set(spec.configuration.get("unique_properties") or ())
        self._unique_known = bool(spec.configuration.get("unique_properties"))

    # ---- what is unique ----------------------------------------------------------------

    def upsertable(self) -> bool:
        """Whether the identity is a property HubSpot can upsert on (its values are unique)."""
        if self.identity == RECORD_ID or self.identity == "domain":
            return False
        if self.identity not in self.unique and not self._unique_known:
            definition = self.json("GET", f"properties/{self.kind}/{self.identity}")
            if definition.get("hasUniqueValue"):
                self.unique.add(self.identity)
            self._unique_known = True
        return self.identity in self.unique

    # ---- writing -----------------------------------------------------------------------

    def properties(self, record, with_identity: bool) -> dict:
        values = {name: hubspot_value(value) for name, value in record.fields.items() if name != RECORD_ID}
        if with_identity and self.identity != RECORD_ID and record.identity is not None:
            values.setdefault(self.identity, hubspot_value(record.identity))
        return values

    def write(self, records):
        outcomes: list[RecordOutcome | None] = [None] * len(records)
        for index, record in enumerate(records):
            if record.identity in (None, ""):
                outcomes[index] = RecordOutcome(record.identity, ok=False, error=f"No {self.identity} to match on.")
        pending = [i for i, outcome in enumerate(outcomes) if outcome is None]
        if not pending:
            return outcomes
        if self.mode == "updateOrCreate" and self.upsertable():
            self.upsert(records, pending, outcomes)
            return outcomes
        existing = self.find([records[i] for i in pending])
        creates, updates = [], []
        for index in pending:
            record = records[index]
            found = existing.get(key_of(self.identity, record.identity))
            if found is not None and self.mode == "create":
                outcomes[index] = RecordOutcome(record.identity, ok=True, action="unchanged", target_id=found)
            elif found is not None:
                updates.append((index, found))
            elif self.mode == "update":
                outcomes[index] = RecordOutcome(
                    record.identity, ok=False,
                    error=f"No HubSpot {SINGULAR[self.kind]} has {self.identity} {record.identity}; "
                          "update mode creates nothing.")
            elif self.identity == RECORD_ID:
                outcomes[index] = RecordOutcome(record.identity, ok=False,
                                                error=f"No HubSpot {SINGULAR[self.kind]} has id {record.identity}.")
            else:
                creates.append(index)
        if updates:
            inputs = [{"id": found, "properties": self.properties(records[i], with_identity=False),
                       "objectWriteTraceId": str(i)} for i, found in updates]
            self.send("batch/update", inputs, records, outcomes, "updated")
        if creates:
            inputs = [{"properties": self.properties(records[i], with_identity=True), "objectWriteTraceId": str(i)}
                      for i in creates]
            self.send("batch/create", inputs, records, outcomes, "inserted")
        return outcomes

    def upsert(self, records, pending, outcomes):
        inputs = [{"idProperty": self.identity, "id": str(hubspot_value(records[i].identity)),
                   "properties": self.properties(records[i], with_identity=False), "objectWriteTraceId": str(i)}
                  for i in pending]
        self.send("batch/upsert", inputs, records, outcomes, None)

    def send(self, endpoint, inputs, records, outcomes, action):
        """POST one batch call; fill the outcome of every record it carried."""
        response = self.call("POST", f"objects/{self.kind}/{endpoint}", json={"inputs": inputs})
        by_trace = {item["objectWriteTraceId"]: item for item in inputs}
        if response.status_code >= 400:  # the whole call was refused (e.g. duplicate ids)
            message = provider_words(response)
            for trace, item in by_trace.items():
                index = int(trace)
                outcomes[index] = RecordOutcome(records[index].identity, ok=False, error=message, payload=item)
            return
        body = response.json()
        for result in body.get("results") or []:
            trace = self.trace_of(result, by_trace)
            if trace is None:
                continue
            index = int(trace)
            done = action or ("inserted" if result.get("new") else "updated")
            outcomes[index] = RecordOutcome(records[index].identity, ok=True, action=done,
                                            target_id=str(result.get("id") or ""))
            by_trace.pop(trace)
        leftover = []
        for error in body.get("errors") or []:
            traces = self.traces_of(error, by_trace)
            if not traces:
                leftover.append(error.get("message") or error.get("category") or "Refused")
            for trace in traces:
                index = int(trace)
                outcomes[index] = RecordOutcome(records[index].identity, ok=False, payload=by_trace.pop(trace),
                                                error=error.get("message") or error.get("category") or "Refused")
        for trace, item in by_trace.items():
            index = int(trace)
            outcomes[index] = RecordOutcome(records[index].identity, ok=False, payload=item,
                                            error="; ".join(leftover) or "HubSpot's answer did not mention this record.")

    def trace_of(self, result, by_trace) -> str | None:
        """Which input a result belongs to: its trace id, else its identity value or id."""
        trace = result.get("objectWriteTraceId")
        if trace in by_trace:
            return trace
        values = result.get("properties") or {}
        for candidate, item in by_trace.items():
            if item.get("id") is not None and key_of(self.identity, item["id"]) in (
                    key_of(self.identity, values.get(self.identity) or ""), str(result.get("id"))):
                return candidate
            sent = (item.get("properties") or {}).get(self.identity)
            if sent not in (None, "") and key_of(self.identity, sent) == key_of(self.identity,
                                                                                values.get(self.identity) or ""):
                return candidate
        return None

    def traces_of(self, error, by_trace) -> list[str]:
        context = error.get("context") or {}
        traces = [t for t in context.get("objectWriteTraceId") or [] if t in by_trace]
        if traces:
            return traces
        ids = {key_of(self.identity, i) for i in context.get("ids") or []}
        return [t for t, item in by_trace.items() if item.get("id") is not None and key_of(self.identity, item["id"]) in ids]

    # ---- finding what exists ----------------------------------------------------------

    def find(self, records) -> dict[str, str]:
        """HubSpot record ids of this batch's records that exist, by identity key."""
        values = list(dict.fromkeys(str(hubspot_value(r.identity)) for r in records))
        if not values:
            return {}
        if self.identity != RECORD_ID and not self.upsertable():  # not unique: search finds them
            return self.search(values)
        body = {"inputs": [{"id": value} for value in values], "properties": [self.identity],
                "propertiesWithHistory": []}
        if self.identity != RECORD_ID:
            body["idProperty"] = self.identity
        response = self.call("POST", f"objects/{self.kind}/batch/read", json=body)
        if response.status_code >= 400:
            raise ConnectorError(f"HubSpot could not look up {self.kind}: {provider_words(response)}")
        found = {}
        for item in response.json().get("results") or []:
            value = item["id"] if self.identity == RECORD_ID else (item.get("properties") or {}).get(self.identity)
            if value is not None:
                found.setdefault(key_of(self.identity, value), str(item["id"]))
        return found

    def search(self, values) -> dict[str, str]:
        """Records whose identity property is one of `values` (oldest first wins on duplicates)."""
        found, after = {}, None
        while True:
            body = {"filterGroups": [{"filters": [{"propertyName": self.identity, "operator": "IN",
                                                   "values": values}]}],
                    "sorts": [{"propertyName": RECORD_ID, "direction": "ASCENDING"}],
                    "properties": [self.identity], "limit": SEARCH_PAGE}
            if after:
                body["after"] = after
            page = self.json("POST", f"objects/{self.kind}/search", json=body)
            for item in page.get("results") or []:
                value = (item.get("properties") or {}).get(self.identity)
                if value:
                    found.setdefault(key_of(self.identity, value), str(item["id"]))
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return found


class ListWriter(Writer, HubSpotCalls):
    """Adds records to a MANUAL or SNAPSHOT list (mode create) or takes them off (mode remove)."""

    batch_size = BATCH_MAX

    def __init__(self, session, spec):
        HubSpotCalls.__init__(self, session)
        self.list_id = spec.object_id[len(LIST_PREFIX):]
        self.mode = spec.mode
        self.session = session
        self.spec = spec
        self.finder = None

    def records_finder(self) -> ObjectWriter:
        if self.finder is None:
            listed = self.json("GET", f"lists/{self.list_id}")
            kind = {"0-1": "contacts", "0-2": "companies"}.get((listed.get("list") or listed).get("objectTypeId"))
            if kind is None:
                raise ConnectorError(f"HubSpot list {self.list_id} holds neither contacts nor companies.")
            spec = type(self.spec)(object_id=kind, mode="update", identity_field=self.spec.identity_field,
                                   configuration=self.spec.configuration)
            self.finder = ObjectWriter(self.session, spec)
        return self.finder

    def write(self, records):
        if self.mode == "remove":
            return self.remove(records)
        return self.change(records, "add")

    def remove(self, records):
        return self.change(records, "remove")

    def change(self, records, verb):
        finder = self.records_finder()
        found = finder.find([r for r in records if r.identity not in (None, "")])
        ids = {}
        outcomes: list[RecordOutcome | None] = [None] * len(records)
        for index, record in enumerate(records):
            record_id = found.get(key_of(finder.identity, record.identity)) if record.identity not in (None, "") \
                else None
            if record_id is None:
                if verb == "remove":  # nothing to take off
                    outcomes[index] = RecordOutcome(record.identity, ok=True, action="removed")
                else:
                    outcomes[index] = RecordOutcome(
                        record.identity, ok=False,
                        error=f"No HubSpot {SINGULAR[finder.kind]} has {finder.identity} {record.identity}.")
            else:
                ids[index] = record_id
        if ids:
            answer = self.json("PUT", f"lists/{self.list_id}/memberships/{verb}",
                               json=list(dict.fromkeys(ids.values())))
            added = set(answer.get("recordsIdsAdded") or answer.get("recordIdsAdded") or [])
            for index, record_id in ids.items():
                if verb == "remove":
                    action = "removed"
                else:
                    action = "inserted" if record_id in added else "unchanged"  # already a member
                outcomes[index] = RecordOutcome(records[index].identity, ok=True, action=action, target_id=record_id)
        return outcomes
