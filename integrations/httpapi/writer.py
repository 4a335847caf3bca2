"""HTTP API writer: each record (or each batch of records) sent as JSON to the configured endpoint.

Follows a manual HTTP destination as seed 004 describes it. Options come from the
sync's target configuration, falling back to the connection's:

    method              POST (default), PUT, PATCH or DELETE
    url                 where to send; `{field}` placeholders are filled from each record
                        (e.g. https://example.com/accounts/{id}), records then go per URL
    headers             extra request headers: "name:value,name2:value2", a {"name": "value"}
                        dict or a list of {"name", "value"}; the connection's own headers and
                        authentication are already on the session
    exclude_attributes  record fields left out of the body (a list or "a,b")
    batch               send records together as one JSON array (default: one request each)
    batch_size          at most this many records per batched request (default 100)

A 2xx answer accepts every record it carried; any other answer fails them all, with
the status and its reason as the message (never the body: the endpoint is any host).
"""

from __future__ import annotations

import json
import string
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote

import httpx

from integrations.base import ConnectionFailed, ConnectorError, RecordOutcome, Writer

DEFAULT_BATCH_SIZE = 100
MAX_BATCH_SIZE = 10_000
METHODS = ("POST", "PUT", "PATCH", "DELETE")


def make_writer(session, spec) -> Writer:
    return EndpointWriter(session, spec)


def option(spec, config, name, default=None):
    value = spec.configuration.get(name)
    if value in (None, "", []):
        value = config.get(name)
    return default if value in (None, "", []) else value


def parse_headers(value) -> dict:
    if not value:
        return {}
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, list):
        return {str(h["name"]): str(h.get("value") or "") for h in value if isinstance(h, dict) and h.get("name")}
    headers = {}
    for pair in str(value).split(","):
        name, _, text = pair.partition(":")
        if name.strip():
            headers[name.strip()] = text.strip()
    return headers


def names(value) -> set[str]:
    if not value:
        return set()
    if isinstance(value, str):
        value = value.split(",")
    return {str(name).strip() for name in value if str(name).strip()}


def flag(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return bool(value)


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


class EndpointWriter(Writer):
    def __init__(self, session, spec):
        config = session.config
        self.http = session.http
        self.method = str(option(spec, config, "method", "POST")).upper()
        if self.method not in METHODS:
            raise ConnectorError(f"The HTTP API method must be one of {', '.join(METHODS)}, not {self.method}.")
        self.url = str(option(spec, config, "url") or option(spec, config, "endpoint") or "")
        if not self.url.startswith(("http://", "https://")):
            raise ConnectorError("The HTTP API connection needs a URL starting with http:// or https://.")
        self.placeholders = [name for _, name, _, _ in string.Formatter().parse(self.url) if name]
        self.headers = parse_headers(spec.configuration.get("headers"))
        self.excluded = names(option(spec, config, "exclude_attributes"))
        self.batched = flag(option(spec, config, "batch", False))
        size = int(option(spec, config, "batch_size", DEFAULT_BATCH_SIZE))
        if not 1 <= size <= MAX_BATCH_SIZE:
            raise ConnectorError(f"The batch size must be between 1 and {MAX_BATCH_SIZE}.")
        self.batch_size = size if self.batched else DEFAULT_BATCH_SIZE

    def body(self, record) -> dict:
        return {name: plain(value) for name, value in record.fields.items() if name not in self.excluded}

    def url_for(self, record) -> str:
        if not self.placeholders:
            return self.url
        values = {name: record.fields.get(name) for name in self.placeholders}
        missing = [name for name, value in values.items() if value in (None, "")]
        if missing:
            raise KeyError(missing[0])
        return self.url.format(**{name: quote(str(value), safe="") for name, value in values.items()})

    def write(self, records):
        outcomes: list[RecordOutcome | None] = [None] * len(records)
        by_url: dict[str, list[int]] = {}
        for index, record in enumerate(records):
            try:
                by_url.setdefault(self.url_for(record), []).append(index)
            except KeyError as missing:
                outcomes[index] = RecordOutcome(record.identity, ok=False,
                                                error=f"The URL needs {missing.args[0]}, which this record lacks.")
        for url, indexes in by_url.items():
            if self.batched:
                for start in range(0, len(indexes), self.batch_size):
                    chunk = indexes[start:start + self.batch_size]
                    self.send(url, [self.body(records[i]) for i in chunk], [records[i] for i in chunk], chunk,
                              outcomes)
            else:
                for index in indexes:
                    self.send(url, self.body(records[index]), [records[index]], [index], outcomes)
        return outcomes

    def send(self, url, payload, records, indexes, outcomes):
        try:
            response = self.http.request(self.method, url, content=json.dumps(payload, default=str),
                                         headers={"Content-Type": "application/json", **self.headers})
        except httpx.HTTPError as error:
            raise ConnectionFailed(f"Could not reach {httpx.URL(url).host}: {error}") from None
        if 200 <= response.status_code < 300:
            target_id = self.returned_id(response) if len(records) == 1 else None
            for index, record in zip(indexes, records):
                outcomes[index] = RecordOutcome(record.identity, ok=True, target_id=target_id)
            return
        message = answer(response)
        for index, record in zip(indexes, records):
            outcomes[index] = RecordOutcome(record.identity, ok=False, error=message, payload=self.body(record))

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
