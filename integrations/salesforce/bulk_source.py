"""Salesforce as a bulk-sync source: objects and fields from describe, records through SOQL.

    objects(session)                      -> [{"id": "Contact", "name": "Contact"}, ...]
    fields(session, "Contact")            -> [{"id", "name", "type", "remote_type", "is_primary_key"}, ...]
    read = Read(session, "Contact", ["Id", "Email", ...], since="2026-01-01T00:00:00.000Z")
    for batch in read: ...                # lists of dicts, one page (up to 2,000 records) at a time
    read.cursor                           # the newest SystemModstamp read so far

A read asks for `SELECT fields FROM obj WHERE SystemModstamp > since ORDER BY
SystemModstamp` and follows nextRecordsUrl, so only one page is ever held. With
`include_deleted` it goes through queryAll, which also returns deleted records
(IsDeleted = true); those come out with `_deleted: True`.

With `query_api="bulk"` the same SOQL runs as a Bulk API 2.0 query job: the job is
polled until Salesforce has the results, which are then read as CSV sets of up to
BULK_SET_SIZE rows (Sforce-Locator names the next). Bulk CSV has no null: an empty
value reads as None. Its rows come in no particular order, so the cursor is always
the newest stamp read, and it is kept only once the whole read is done.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from itertools import islice

import httpx

from integrations.base import BOOLEAN, DATE, DATETIME, INTEGER, NUMBER, STRING, ConnectionFailed, ConnectorError
from integrations.responses import provider_words

KEY = "Id"
TRACKING_FIELDS = ("SystemModstamp", "LastModifiedDate")  # the first an object has is used
DELETED_FIELD = "IsDeleted"
PAGE_SIZE = 2000
QUERY_APIS = ("rest", "bulk")
BULK_SET_SIZE = 50_000  # CSV rows per results request of a Bulk API 2.0 query job
BULK_POLL_SECONDS = (0.2, 5.0)  # first and longest wait between looks at a query job
BULK_WAIT_SECONDS = 3600  # a query job still running after this fails the read
TYPES = {"boolean": BOOLEAN, "int": INTEGER, "long": INTEGER, "double": NUMBER, "currency": NUMBER,
         "percent": NUMBER, "date": DATE, "datetime": DATETIME}
SKIPPED_TYPES = ("address", "location", "base64")  # compound or binary: not copied as columns


def send(session, method: str, path: str, **kwargs) -> httpx.Response:
    """A Salesforce call (path relative to the API base, or an absolute URL); errors in Salesforce's words."""
    try:
        response = session.http.request(method, path, **kwargs)
    except httpx.HTTPError as error:
        raise ConnectionFailed(f"Could not reach Salesforce: {error}") from None
    if response.status_code in (401, 403):
        raise ConnectionFailed(f"Salesforce refused the request ({response.status_code}): {provider_words(response)}")
    if response.status_code >= 400:
        raise ConnectorError(f"Salesforce answered {response.status_code}: {provider_words(response)}")
    return response


def call(session, path: str, **params) -> dict:
    """GET a Salesforce path as JSON, query pages of PAGE_SIZE records."""
    return send(session, "GET", path, params=params or None,
                headers={"Sforce-Query-Options": f"batchSize={PAGE_SIZE}"}).json()


def objects(session) -> list[dict]:
    found = call(session, "sobjects").get("sobjects", [])
    return [{"id": o["name"], "name": o.get("label") or o["name"]}
            for o in found if o.get("queryable") and o.get("retrieveable", True) and o.get("replicateable", True)]


def fields(session, object_id: str) -> list[dict]:
    described = call(session, f"sobjects/{object_id}/describe")
    return [
        {"id": f["name"], "name": f.get("label") or f["name"], "type": TYPES.get(f["type"], STRING),
         "remote_type": f["type"], "is_primary_key": f["name"] == KEY}
        for f in described.get("fields", []) if f["type"] not in SKIPPED_TYPES
    ]


def tracking_field(object_id: str, field_ids) -> str | None:
    """The field runs are incremental on: SystemModstamp where the object has it."""
    return next((name for name in TRACKING_FIELDS if name in field_ids), None)


def soql_datetime(value: str) -> str:
    """A stored cursor as a SOQL datetime literal (UTC, milliseconds, Z)."""
    text = value.replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"
    moment = datetime.fromisoformat(text).astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Read:
    """One pass over an object's records changed since `since` (all of them when None)."""

    def __init__(self, session, object_id: str, field_ids: list[str], since: str | None = None,
                 include_deleted: bool = True, query_api: str = "rest"):
        self.session = session
        self.object_id = object_id
        self.tracking = tracking_field(object_id, field_ids)
        wanted = [KEY] + ([self.tracking] if self.tracking else [])
        if include_deleted:
            wanted.append(DELETED_FIELD)
        self.field_ids = list(dict.fromkeys(wanted + list(field_ids)))
        self.since = since if self.tracking else None
        self.include_deleted = include_deleted
        self.query_api = query_api
        self.cursor = since

    def soql(self) -> str:
        query = f"SELECT {', '.join(self.field_ids)} FROM {self.object_id}"
        if self.since:
            query += f" WHERE {self.tracking} > {soql_datetime(self.since)}"
        if self.tracking and self.query_api == "rest":  # Bulk API 2.0 refuses ORDER BY (it stops chunking)
            query += f" ORDER BY {self.tracking} ASC"
        return query

    def __iter__(self) -> Iterator[list[dict]]:
        pages = self.bulk_pages() if self.query_api == "bulk" else self.rest_pages()
        for raw in pages:
            batch = [self.record(r) for r in raw]
            if batch:
                if self.tracking:
                    self.cursor = max([self.cursor or ""] + [r[self.tracking] or "" for r in batch]) or None
                yield batch

    def rest_pages(self) -> Iterator[list[dict]]:
        page = call(self.session, "queryAll" if self.include_deleted else "query", q=self.soql())
        while True:
            yield page.get("records", [])
            next_url = page.get("nextRecordsUrl")
            if page.get("done", True) or not next_url:
                return
            page = call(self.session, instance_url(self.session) + next_url)

    def bulk_pages(self) -> Iterator[list[dict]]:
        job = send(self.session, "POST", "jobs/query", json={
            "operation": "queryAll" if self.include_deleted else "query", "query": self.soql()}).json()
        self.wait_for(job["id"])
        locator = None
        while True:
            params = {"maxRecords": BULK_SET_SIZE, **({"locator": locator} if locator else {})}
            response = send(self.session, "GET", f"jobs/query/{job['id']}/results", params=params)
            rows = csv.DictReader(response.text.splitlines(keepends=True))  # StringIO would hold it 4 bytes a char
            while chunk := list(islice(rows, PAGE_SIZE)):  # a set's rows as dicts a page at a time
                yield [{name: value if value != "" else None for name, value in row.items()} for row in chunk]
            locator = response.headers.get("Sforce-Locator")
            if not locator or locator == "null":
                return

    def wait_for(self, job_id: str):
        pause, longest = BULK_POLL_SECONDS
        deadline = time.monotonic() + BULK_WAIT_SECONDS
        while True:
            job = send(self.session, "GET", f"jobs/query/{job_id}").json()
            if job["state"] == "JobComplete":
                return
            if job["state"] in ("Failed", "Aborted"):
                raise ConnectorError(f"The Salesforce query job {job_id} for {self.object_id} ended "
                                     f"{job['state']}: {job.get('errorMessage') or 'no reason given'}")
            if time.monotonic() > deadline:
                raise ConnectorError(f"The Salesforce query job {job_id} for {self.object_id} did not finish "
                                     f"within {BULK_WAIT_SECONDS} seconds.")
            time.sleep(pause)
            pause = min(pause * 2, longest)

    def record(self, raw: dict) -> dict:
        """The parsed record itself as the output, when it holds just the fields asked for."""
        raw.pop("attributes", None)
        record = raw if len(raw) == len(self.field_ids) else {name: raw.get(name) for name in self.field_ids}
        record["_deleted"] = raw.get(DELETED_FIELD) in (True, "true")
        return record


def instance_url(session) -> str:
    """nextRecordsUrl is a path on the instance (/services/data/vNN.0/query/...)."""
    base = str(session.http.base_url)
    return base.split("/services/data/", 1)[0]
