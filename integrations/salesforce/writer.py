"""Salesforce writer: sObject collections (REST) or Bulk API 2.0 ingest jobs, per the
target configuration of seed 002.

How records are matched on the identity field:
- an External ID field, in updateOrCreate mode: an upsert on it, one call per batch
  (`PATCH composite/sobjects/{object}/{field}` or a Bulk `upsert` job);
- anything else (Id, Email, an External ID in create/update mode, or whenever
  `only_sync_different` is on): a SOQL lookup, then updates by Id and inserts.
"multi:leadOrContact" looks up Contacts first, then Leads that are not converted,
and creates what matched neither as `create_records_as` says.

Configuration honoured: ingestion_api (rest, bulk, automatic: Bulk from
AUTOMATIC_BULK_FROM records in a batch), rest_batch_size (at most 200),
bulk_batch_size, insert_null_values (nulls blank fields; otherwise they are left
out), sort_batches_by, only_sync_different, invalid_relationships (error,
omit_values, omit_records), skip_converted and create_records_as.
`concurrency_mode` needs nothing here: Bulk API 2.0 only runs jobs in parallel
and REST calls are sent one at a time.

Every record gets its own outcome; a refused record carries Salesforce's status
code and message, e.g. "REQUIRED_FIELD_MISSING: Required fields are missing: [LastName]".
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections import defaultdict, deque

import httpx

from integrations.base import ConnectionFailed, ConnectorError, RateLimited, RecordOutcome, Writer
from integrations.responses import provider_words, words_in

from .targets import LEAD_OR_CONTACT

REST_LIMIT = 200
DEFAULT_BULK_BATCH = 10_000
AUTOMATIC_BULK_FROM = 1_000
LOOKUP_CHUNK = 100
BULK_WAIT = 1800.0  # seconds a Bulk job may take before the batch is given up
BULK_FINISHED = ("JobComplete", "Failed", "Aborted")
MODES = ("updateOrCreate", "create", "update", "remove")
GONE = ("ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY")  # a delete of these has nothing left to do
TEXT_TYPES = ("string", "email", "phone", "url", "textarea", "picklist", "multipicklist", "combobox",
              "id", "reference")
RECORD_ID = re.compile(r"^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$")


def make_writer(session, spec) -> Writer:
    if spec.mode not in MODES:
        raise ConnectorError(f"Salesforce targets support the modes {', '.join(MODES)}, not {spec.mode!r}.")
    if not spec.identity_field:
        raise ConnectorError("A Salesforce sync needs an identity field to match records on.")
    return SalesforceWriter(session, spec)


def error_text(errors) -> str:
    """Salesforce's errors of one record (list of {statusCode|errorCode, message}) as one line."""
    return words_in(errors or []) or "Salesforce refused the record without saying why."


def bulk_error(text: str) -> str:
    """sf__Error "CODE:message:Field1,Field2 --" as "CODE: message"."""
    text = (text or "").strip()
    if text.endswith("--"):
        text = text[:-2].rstrip()
    code, _, rest = text.partition(":")
    message = rest.rsplit(":", 1)[0] if ":" in rest else rest
    return f"{code}: {message}" if message else text


def soql_literal(value) -> str:
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def match_key(field_type: str, value) -> str | None:
    """How Salesforce compares identity values: ids by their 15 case-sensitive characters, text ignoring case."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if field_type == "id":
        return text[:15]
    return text.lower()


def csv_cell(value, blank: str) -> str:
    if value is None:
        return blank
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


class SalesforceWriter(Writer):
    def __init__(self, session, spec, sleep=time.sleep):
        self.http = session.http
        self.spec = spec
        self.sleep = sleep
        config = spec.configuration or {}
        self.ingestion = config.get("ingestion_api") or "automatic"
        self.rest_batch = max(1, min(REST_LIMIT, int(config.get("rest_batch_size") or REST_LIMIT)))
        self.bulk_batch = max(1, int(config.get("bulk_batch_size") or DEFAULT_BULK_BATCH))
        self.batch_size = self.rest_batch if self.ingestion == "rest" else self.bulk_batch
        self.insert_nulls = bool(config.get("insert_null_values"))
        self.sort_by = config.get("sort_batches_by") or None
        self.only_different = bool(config.get("only_sync_different"))
        self.relationships = config.get("invalid_relationships") or "error"
        self.skip_converted = bool(config.get("skip_converted"))
        self.create_as = config.get("create_records_as") or "Lead"
        self.multi = spec.object_id == LEAD_OR_CONTACT
        self.objects = ["Contact", "Lead"] if self.multi else [spec.object_id]
        self.identity = spec.identity_field
        self.described: dict[str, dict] = {}
        self.mapped_fields: set = set()

    # ---- HTTP ------------------------------------------------------------------------

    def call(self, method, path, **kwargs) -> httpx.Response:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise ConnectionFailed(f"Could not reach Salesforce: {error}") from None
        if response.status_code == 401:
            raise ConnectionFailed(f"Salesforce refused the session: {provider_words(response)}")
        if response.status_code == 403:
            text = provider_words(response)
            if "REQUEST_LIMIT_EXCEEDED" in text:
                raise RateLimited(f"Salesforce's API allocation is spent: {text}", 3600.0)
            raise ConnectionFailed(f"Salesforce refused access: {text}")
        if response.status_code >= 400:
            raise ConnectorError(f"Salesforce refused {method} {path.split('?')[0]}: {provider_words(response)}")
        return response

    def json(self, method, path, **kwargs):
        response = self.call(method, path, **kwargs)
        return response.json() if response.content else None

    def query(self, soql: str) -> list[dict]:
        body = self.json("GET", "query", params={"q": soql})
        records = list(body.get("records") or [])
        base = str(self.http.base_url).split("/services/data/", 1)[0]
        while not body.get("done", True) and body.get("nextRecordsUrl"):
            body = self.json("GET", base + body["nextRecordsUrl"])
            records += body.get("records") or []
        return records

    # ---- metadata ---------------------------------------------------------------------

    def fields_of(self, object_name) -> dict:
        if object_name not in self.described:
            described = self.json("GET", f"sobjects/{object_name}/describe")
            self.described[object_name] = {f["name"]: f for f in described.get("fields") or []}
        return self.described[object_name]

    def identity_type(self, object_name) -> str:
        field = self.fields_of(object_name).get(self.identity)
        if field is None:
            raise ConnectorError(f"Salesforce {object_name} has no field {self.identity} to match records on.")
        return field["type"]

    def upserts(self) -> bool:
        """Whether this sync writes through an upsert on an External ID field."""
        if self.multi or self.spec.mode != "updateOrCreate" or self.only_different:
            return False
        return bool(self.fields_of(self.objects[0]).get(self.identity, {}).get("externalId"))

    def values(self, object_name, fields: dict, operation: str) -> dict:
        """A record's fields as Salesforce takes them for `operation` (insert, update, upsert)."""
        described = self.fields_of(object_name)
        out = {}
        for name, value in fields.items():
            field = described.get(name)
            if name == "Id":  # the key of an update, never a value to write
                continue
            if value is None and not self.insert_nulls and name != self.identity:
                continue
            if field is None:
                if not self.multi:  # multi: a Lead-only or Contact-only field is left out
                    out[name] = value
                continue
            out[name] = self.convert(field, value)
        return out

    @staticmethod
    def convert(field, value):
        """Model values (text from CSV warehouses, numbers, dates) in the field's type, when they fit."""
        if value is None:
            return None
        kind = field.get("type")
        try:
            if kind == "boolean" and not isinstance(value, bool):
                return str(value).strip().lower() in ("true", "1", "yes", "y", "t")
            if kind == "int" and not isinstance(value, bool):
                number = float(value)
                return int(number) if number == int(number) else value
            if kind in ("double", "currency", "percent") and not isinstance(value, bool):
                return float(value)
        except (TypeError, ValueError):
            return value
        if kind == "date":
            return str(value)[:10]
        if kind in TEXT_TYPES and not isinstance(value, str):
            return csv_cell(value, "")
        return value

    # ---- writing -----------------------------------------------------------------------

    def prepare(self) -> dict:
        """Fail before the first batch when the object or the identity field does not exist."""
        for object_name in self.objects:
            self.identity_type(object_name)
        return {}

    def write(self, records):
        if self.spec.mode == "remove":
            return self.remove(records)
        outcomes: list[RecordOutcome | None] = [None] * len(records)
        self.refusals = []
        fields = [record.fields for record in records]
        order = self.ordered(fields)
        order = self.check_relationships(records, fields, order, outcomes)
        use_bulk = self.bulk_for(len(order))
        if self.upserts():
            items = [(i, self.values(self.objects[0], fields[i], "upsert")) for i in order]
            self.send(self.objects[0], "upsert", items, records, outcomes, use_bulk)
        else:
            updates, inserts = self.plan(records, fields, order, outcomes)
            for object_name, items in updates.items():
                self.send(object_name, "update", items, records, outcomes, use_bulk)
            for object_name, items in inserts.items():
                self.send(object_name, "insert", items, records, outcomes, use_bulk)
        if self.refusals and not any(o is not None and o.ok for o in outcomes):
            raise self.refusals[0]  # nothing got through: the whole batch was refused
        return [o or RecordOutcome(r.identity, ok=False, error="Salesforce gave no result for this record.")
                for r, o in zip(records, outcomes)]

    def bulk_for(self, count: int) -> bool:
        if self.ingestion == "bulk":
            return True
        return self.ingestion == "automatic" and count >= AUTOMATIC_BULK_FROM

    def ordered(self, fields) -> list[int]:
        """Record positions, grouped by `sort_batches_by` so records sharing a parent travel together."""
        order = list(range(len(fields)))
        if self.sort_by:
            order.sort(key=lambda i: (fields[i].get(self.sort_by) is None, str(fields[i].get(self.sort_by) or "")))
        return order

    def check_relationships(self, records, fields, order, outcomes) -> list[int]:
        """invalid_relationships: leave out the values (omit_values) or the records (omit_records)
        whose lookup fields name no existing record; "error" lets Salesforce refuse them."""
        if self.relationships not in ("omit_values", "omit_records") or self.multi:
            return order
        described = self.fields_of(self.objects[0])
        references = {name: described[name] for name in {n for i in order for n in fields[i]}
                      if described.get(name, {}).get("type") == "reference" and described[name].get("referenceTo")}
        bad = defaultdict(set)  # field -> invalid values
        for name, field in references.items():
            values = {str(fields[i][name]) for i in order if fields[i].get(name) not in (None, "")}
            wellformed = {v for v in values if RECORD_ID.match(v)}
            existing = self.existing_ids(field["referenceTo"][0], wellformed)
            bad[name] = {v for v in values if v not in wellformed or v[:15] not in existing}
        kept = []
        for i in order:
            wrong = [n for n in references if fields[i].get(n) not in (None, "") and str(fields[i][n]) in bad[n]]
            if wrong and self.relationships == "omit_records":
                outcomes[i] = RecordOutcome(records[i].identity, ok=False, payload=fields[i], error=(
                    f"{', '.join(f'{n} {fields[i][n]!r}' for n in wrong)} names no existing record; "
                    "left out (invalid relationships: omit records)."))
                continue
            if wrong:
                fields[i] = {k: v for k, v in fields[i].items() if k not in wrong}
            kept.append(i)
        return kept

    def existing_ids(self, object_name, ids) -> set:
        found = set()
        ids = sorted(ids)
        for start in range(0, len(ids), LOOKUP_CHUNK):
            chunk = ", ".join(soql_literal(v) for v in ids[start:start + LOOKUP_CHUNK])
            found |= {r["Id"][:15] for r in self.query(f"SELECT Id FROM {object_name} WHERE Id IN ({chunk})")}
        return found

    # ---- lookups and the plan ---------------------------------------------------------------

    def lookup(self, object_name, keys: set) -> dict:
        """Existing records of `object_name` by identity key: key -> list of records."""
        kind = self.identity_type(object_name)
        if kind == "id":
            keys = {k for k in keys if RECORD_ID.match(k)}
        wanted = ["Id", self.identity]
        if object_name == "Lead":
            wanted.append("IsConverted")
        if self.only_different:
            wanted += sorted({n for n in self.mapped_fields if n in self.fields_of(object_name)})
        select = ", ".join(dict.fromkeys(wanted))
        where = ""
        if self.multi and object_name == "Lead":
            where = " AND IsConverted = false"
        found = defaultdict(list)
        keys = sorted(keys)
        for start in range(0, len(keys), LOOKUP_CHUNK):
            chunk = ", ".join(soql_literal(k) for k in keys[start:start + LOOKUP_CHUNK])
            soql = f"SELECT {select} FROM {object_name} WHERE {self.identity} IN ({chunk}){where} ORDER BY Id"
            for record in self.query(soql):
                found[match_key(kind, record.get(self.identity))].append(record)
        return found

    def plan(self, records, fields, order, outcomes):
        """Updates and inserts per object: {object: [(position, values)]}; settled records get outcomes here."""
        self.mapped_fields = {n for i in order for n in fields[i] if n != "Id"}
        kinds = {name: self.identity_type(name) for name in self.objects}
        keys = {i: match_key(kinds[self.objects[0]], records[i].identity) for i in order}
        matches: dict[int, tuple[str, list]] = {}
        remaining = {k for k in keys.values() if k}
        for object_name in self.objects:
            if not remaining:
                break
            found = self.lookup(object_name, remaining)
            for i, key in keys.items():
                if i not in matches and key in found:
                    matches[i] = (object_name, found[key])
            remaining -= set(found)
        updates, inserts = defaultdict(list), defaultdict(list)
        mode = self.spec.mode
        for i in order:
            record = records[i]
            if keys[i] is None:
                outcomes[i] = RecordOutcome(record.identity, ok=False, error=f"The identity {self.identity} is empty.")
                continue
            if i in matches:
                object_name, found = matches[i]
                existing = found[0]
                skip = self.skip_reason(object_name, found)
                if skip or mode == "create":
                    outcomes[i] = RecordOutcome(record.identity, ok=True, action="unchanged", target_id=existing["Id"])
                    continue
                values = self.values(object_name, fields[i], "update")
                if self.only_different and self.same(object_name, values, existing):
                    outcomes[i] = RecordOutcome(record.identity, ok=True, action="unchanged", target_id=existing["Id"])
                    continue
                updates[object_name].append((i, {"Id": existing["Id"], **values}))
                continue
            if mode == "update" or kinds[self.objects[0]] == "id":
                where = " or ".join(self.objects)
                outcomes[i] = RecordOutcome(record.identity, ok=False, payload=record.fields, error=(
                    f"No Salesforce {where} has {self.identity} {record.identity}"
                    + ("; this sync only updates existing records." if mode == "update" else ".")))
                continue
            object_name = self.new_record_object(record)
            inserts[object_name].append((i, self.values(object_name, fields[i], "insert")))
        return updates, inserts

    def skip_reason(self, object_name, found) -> str:
        if object_name != "Lead" or not self.skip_converted:
            return ""
        if len(found) > 1:
            return "duplicate"
        return "converted" if found[0].get("IsConverted") else ""

    def same(self, object_name, values, existing) -> bool:
        described = self.fields_of(object_name)
        for name, value in values.items():
            field = described.get(name)
            if field is None:
                return False
            theirs = existing.get(name)
            if field["type"] in ("double", "currency", "percent", "int") and value is not None and theirs is not None:
                try:
                    if float(value) != float(theirs):
                        return False
                    continue
                except (TypeError, ValueError):
                    return False
            if field["type"] == "datetime" and value and theirs:
                if str(value)[:19] != str(theirs)[:19]:
                    return False
                continue
            if (value if value != "" else None) != (theirs if theirs != "" else None):
                return False
        return True

    def new_record_object(self, record) -> str:
        if not self.multi:
            return self.objects[0]
        if self.create_as == "Contact":
            return "Contact"
        if self.create_as == "ContactIfAccountId":
            return "Contact" if record.fields.get("AccountId") not in (None, "") else "Lead"
        return "Lead"

    # ---- sending --------------------------------------------------------------------------

    def send(self, object_name, operation, items, records, outcomes, use_bulk):
        """Write [(position, values)] with one operation; fills outcomes at those positions.

        A request Salesforce refuses as a whole fails its own records with its message;
        a lost session or a spent allocation stops the batch."""
        if not items:
            return
        step = self.bulk_batch if use_bulk else self.rest_batch
        for start in range(0, len(items), step):
            chunk = items[start:start + step]
            try:
                if use_bulk:
                    self.send_bulk(object_name, operation, chunk, records, outcomes)
                else:
                    self.send_rest(object_name, operation, chunk, records, outcomes)
            except (ConnectionFailed, RateLimited):
                raise
            except ConnectorError as error:
                self.refusals.append(error)
                for i, values in chunk:
                    outcomes[i] = RecordOutcome(records[i].identity, ok=False, error=str(error), payload=values)

    def send_rest(self, object_name, operation, chunk, records, outcomes):
        """One sObject collections call (at most 200 records)."""
        body = {"allOrNone": False, "records": [{"attributes": {"type": object_name}, **values} for _, values in chunk]}
        if operation == "upsert":
            results = self.json("PATCH", f"composite/sobjects/{object_name}/{self.identity}", json=body)
        elif operation == "update":
            results = self.json("PATCH", "composite/sobjects", json=body)
        else:
            results = self.json("POST", "composite/sobjects", json=body)
        for (i, values), result in zip(chunk, results):
            outcomes[i] = self.outcome(records[i], operation, result, values)

    def outcome(self, record, operation, result, values) -> RecordOutcome:
        if not result.get("success"):
            return RecordOutcome(record.identity, ok=False, error=error_text(result.get("errors")), payload=values)
        if operation == "upsert":
            action = "inserted" if result.get("created") else "updated"
        else:
            action = "inserted" if operation == "insert" else "updated"
        return RecordOutcome(record.identity, ok=True, action=action, target_id=result.get("id"))

    # ---- Bulk API 2.0 ------------------------------------------------------------------------

    def send_bulk(self, object_name, operation, items, records, outcomes):
        """One ingest job: create, upload the CSV, close, wait, then read its results.

        Results come back in no particular order and echo the uploaded columns, so each
        result row is matched to its record by those cells."""
        header = list(dict.fromkeys(name for _, values in items for name in values))
        blank = "#N/A" if self.insert_nulls and operation != "insert" else ""
        rows = [[csv_cell(values[name], blank) if name in values else "" for name in header] for _, values in items]
        positions = defaultdict(deque)  # a row's cells -> positions of the records it came from
        for (i, _), row in zip(items, rows):
            positions[tuple(row)].append(i)
        values_at = dict(items)
        job = {"object": object_name, "operation": operation, "contentType": "CSV", "lineEnding": "LF",
               "columnDelimiter": "COMMA"}
        if operation == "upsert":
            job["externalIdFieldName"] = self.identity
        job_id = self.json("POST", "jobs/ingest", json=job)["id"]
        data = io.StringIO()
        writer = csv.writer(data, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        self.call("PUT", f"jobs/ingest/{job_id}/batches", content=data.getvalue().encode(),
                  headers={"Content-Type": "text/csv"})
        self.json("PATCH", f"jobs/ingest/{job_id}", json={"state": "UploadComplete"})
        info = self.wait_for(job_id)
        if info["state"] != "JobComplete":
            raise ConnectorError(f"Salesforce's Bulk API job {job_id} ended {info['state']}: "
                                 f"{info.get('errorMessage') or 'no reason given'}")
        for kind in ("successfulResults", "failedResults"):
            text = self.call("GET", f"jobs/ingest/{job_id}/{kind}").text
            for result in csv.DictReader(io.StringIO(text)):
                queue = positions.get(tuple(result.get(name, "") for name in header))
                if not queue:
                    continue
                i = queue.popleft()
                gone = operation == "delete" and result.get("sf__Error", "").startswith(GONE)
                if kind == "failedResults" and not gone:
                    outcomes[i] = RecordOutcome(records[i].identity, ok=False, error=bulk_error(result["sf__Error"]),
                                                payload=values_at.get(i, {}))
                elif operation == "delete":
                    outcomes[i] = RecordOutcome(records[i].identity, ok=True, action="removed")
                else:
                    created = result.get("sf__Created") == "true"
                    action = "inserted" if operation == "insert" or (operation == "upsert" and created) else "updated"
                    outcomes[i] = RecordOutcome(records[i].identity, ok=True, action=action,
                                                target_id=result.get("sf__Id") or None)

    def wait_for(self, job_id) -> dict:
        waited, pause = 0.0, 0.25
        while True:
            info = self.json("GET", f"jobs/ingest/{job_id}")
            if info["state"] in BULK_FINISHED:
                return info
            if waited >= BULK_WAIT:
                self.call("PATCH", f"jobs/ingest/{job_id}", json={"state": "Aborted"})
                raise ConnectorError(f"Salesforce's Bulk API job {job_id} did not finish within "
                                     f"{int(BULK_WAIT)} seconds; it was aborted.")
            self.sleep(pause)
            waited += pause
            pause = min(5.0, pause * 1.5)

    # ---- removing ------------------------------------------------------------------------------

    def remove(self, records):
        """Delete the matching records; a record already gone counts as removed."""
        outcomes: list[RecordOutcome | None] = [None] * len(records)
        by_object = defaultdict(list)  # object -> [(position, {"Id": ...})]
        unknown = []
        for i, record in enumerate(records):
            if record.target_id and RECORD_ID.match(str(record.target_id)):
                by_object[self.object_of_id(str(record.target_id))].append((i, {"Id": str(record.target_id)}))
            else:
                unknown.append(i)
        if unknown:
            kinds = {name: self.identity_type(name) for name in self.objects}
            keys = {i: match_key(kinds[self.objects[0]], records[i].identity) for i in unknown}
            remaining = {k for k in keys.values() if k}
            for object_name in self.objects:
                found = self.lookup(object_name, remaining) if remaining else {}
                for i, key in keys.items():
                    if key in found and key in remaining:
                        by_object[object_name].append((i, {"Id": found[key][0]["Id"]}))
                remaining -= set(found)
        placed = {i for items in by_object.values() for i, _ in items}
        for i in unknown:
            if i not in placed:
                outcomes[i] = RecordOutcome(records[i].identity, ok=True, action="removed")
        use_bulk = self.bulk_for(len(records))
        for object_name, items in by_object.items():
            if use_bulk:
                for start in range(0, len(items), self.bulk_batch):
                    self.send_bulk(object_name, "delete", items[start:start + self.bulk_batch], records, outcomes)
                continue
            for start in range(0, len(items), self.rest_batch):
                chunk = items[start:start + self.rest_batch]
                ids = ",".join(values["Id"] for _, values in chunk)
                results = self.json("DELETE", "composite/sobjects", params={"ids": ids, "allOrNone": "false"})
                for (i, values), result in zip(chunk, results):
                    gone = any(e.get("statusCode") in GONE for e in result.get("errors") or [])
                    if result.get("success") or gone:
                        outcomes[i] = RecordOutcome(records[i].identity, ok=True, action="removed")
                    else:
                        outcomes[i] = RecordOutcome(records[i].identity, ok=False,
                                                    error=error_text(result.get("errors")), payload=values)
        return [o or RecordOutcome(r.identity, ok=False, error="Salesforce gave no result for this record.")
                for r, o in zip(records, outcomes)]

    def object_of_id(self, record_id: str) -> str:
        """Which of this sync's objects an Id belongs to, by its three-character key prefix."""
        if len(self.objects) == 1:
            return self.objects[0]
        return {"003": "Contact", "00Q": "Lead"}.get(record_id[:3], self.objects[0])
