"""HTTP API writer: each record (or each batch of records) sent to the configured endpoint.

Follows a manual HTTP destination as seed 004 describes it; the options are in
options.py, taken from the sync's target configuration, else the connection's. A
{field} of the URL takes the record's value, URL-encoded, so a value can never change
the host; records whose URLs differ go in separate requests.

A 2xx answer accepts every record it carried; any other answer fails them all, with
the status and its reason as the message (never the body: the endpoint is any host).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote

import httpx

from integrations.base import MASK, ConnectionFailed, ConnectorError, RecordOutcome, Writer

from . import options
from .options import JSON_OBJECT, NDJSON, PLACEHOLDER

OPTION_NAMES = [field.name for field in options.REQUEST_FIELDS]
CONTENT_TYPES = {NDJSON: "application/x-ndjson"}


def make_writer(session, spec) -> Writer:
    return EndpointWriter(session, spec)


def settings_of(connection: dict, sync: dict) -> dict:
    """The request options in force: the sync's, else the connection's, else the defaults."""
    chosen = {field.name: field.default for field in options.REQUEST_FIELDS}
    for given in (connection, sync):
        chosen.update({name: given[name] for name in OPTION_NAMES if given.get(name) not in (None, "", [])})
    chosen["exclude_attributes"] = options.attribute_names(chosen["exclude_attributes"] or [])
    return chosen


def plain(value):
    """JSON-ready values: dates and times in ISO 8601, decimals as numbers."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def answer(response: httpx.Response) -> str:
    """The status and its standard reason: the endpoint's own words (body, reason phrase) stay out."""
    return f"HTTP {response.status_code} {httpx.codes.get_reason_phrase(response.status_code)}".rstrip()


def masked_headers(config: dict) -> dict:
    """The headers the connection adds to every request, their values masked (they are secrets)."""
    shown = {str(h["name"]): MASK for h in config.get("headers") or [] if isinstance(h, dict) and h.get("name")}
    method = config.get("auth_method")
    if method in ("basic", "bearer"):
        shown["Authorization"] = MASK
    elif method == "header" and config.get("header_name"):
        shown[config["header_name"]] = MASK
    return shown


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: dict  # the writer's own; the connection's headers and authentication are on the session
    content: str | None
    indexes: tuple[int, ...]  # the records it carries


class EndpointWriter(Writer):
    def __init__(self, session, spec):
        self.http = session.http
        self.config = session.config
        chosen = settings_of(session.config, spec.configuration)
        found = options.problems(chosen)
        if chosen["method"] not in options.METHODS:
            found.append(("method", f"must be one of {', '.join(options.METHODS)}"))
        if not str(chosen["url"] or "").startswith(("http://", "https://")):
            found.append(("url", "must start with http:// or https://"))
        elif spec.configuration.get("url") and session.config.get("url"):
            moved = options.origin_problem(chosen["url"], session.config["url"])
            found += [("url", moved)] if moved else []
        if found:
            raise ConnectorError("The HTTP API settings are not usable: " +
                                 "; ".join(f"{name} {why}" for name, why in found) + ".")
        self.method, self.url = chosen["method"], chosen["url"]
        self.excluded = set(chosen["exclude_attributes"])
        self.batched, self.format, self.key = bool(chosen["batch"]), chosen["batch_format"], chosen["batch_key"]
        self.batch_size = int(chosen["batch_size"]) if self.batched else options.DEFAULT_BATCH_SIZE

    def body(self, record) -> dict:
        return {name: plain(value) for name, value in record.fields.items() if name not in self.excluded}

    def url_for(self, record) -> str:
        def value(found):
            given = record.fields.get(found.group(1))
            if given in (None, ""):
                raise KeyError(found.group(1))
            return quote(str(plain(given)), safe="")

        return PLACEHOLDER.sub(value, self.url)

    def content(self, bodies: list[dict]) -> str | None:
        if not self.batched:
            return None if self.method == "DELETE" else json.dumps(bodies[0], default=str)
        if self.format == NDJSON:
            return "".join(json.dumps(body, default=str) + "\n" for body in bodies)
        return json.dumps({self.key: bodies} if self.format == JSON_OBJECT else bodies, default=str)

    def requests(self, records) -> tuple[list[Request], dict[int, str]]:
        """The requests that would carry these records, and {index: why} for those none can."""
        refused, by_url = {}, {}
        for index, record in enumerate(records):
            try:
                by_url.setdefault(self.url_for(record), []).append(index)
            except KeyError as missing:
                refused[index] = f"The URL needs {missing.args[0]}, which this record lacks."
        size = self.batch_size if self.batched else 1
        planned = []
        for url, indexes in by_url.items():
            for start in range(0, len(indexes), size):
                chunk = tuple(indexes[start:start + size])
                content = self.content([self.body(records[i]) for i in chunk])
                headers = {} if content is None else {
                    "Content-Type": CONTENT_TYPES.get(self.format if self.batched else "", "application/json")}
                planned.append(Request(self.method, url, headers, content, chunk))
        return planned, refused

    def shown(self, request: Request) -> dict:
        """The request as a person may see it: the connection's header values masked."""
        return {"method": request.method, "url": request.url,
                "headers": {**request.headers, **masked_headers(self.config)}, "body": request.content}

    def send(self, request: Request) -> httpx.Response:
        try:
            return self.http.request(request.method, request.url, headers=request.headers,
                                     content=request.content.encode() if request.content is not None else None)
        except httpx.HTTPError as error:
            raise ConnectionFailed(f"Could not reach {httpx.URL(request.url).host}: {error}") from None

    def write(self, records):
        outcomes: list[RecordOutcome | None] = [None] * len(records)
        planned, refused = self.requests(records)
        for index, why in refused.items():
            outcomes[index] = RecordOutcome(records[index].identity, ok=False, error=why)
        for request in planned:
            response = self.send(request)
            ok = 200 <= response.status_code < 300
            target_id = self.returned_id(response) if ok and not self.batched else None
            for index in request.indexes:
                record = records[index]
                outcomes[index] = RecordOutcome(record.identity, ok=True, target_id=target_id) if ok else \
                    RecordOutcome(record.identity, ok=False, error=answer(response), payload=self.body(record))
        return outcomes

    def test_send(self, record) -> tuple[dict, httpx.Response]:
        """Sends one request carrying only this record: (the request as shown, the answer)."""
        planned, refused = self.requests([record])
        if refused:
            raise ConnectorError(refused[0])
        return self.shown(planned[0]), self.send(planned[0])

    @staticmethod
    def returned_id(response) -> str | None:
        """The id an endpoint answers with for a single record ({"id": ...}), when it does."""
        try:
            body = response.json()
        except ValueError:
            return None
        if isinstance(body, dict) and isinstance(body.get("id"), (str, int)) and not isinstance(body["id"], bool):
            return str(body["id"])
        return None
