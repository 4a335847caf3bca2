"""Hostile input sent to every operation of /api/openapi.json, each answered with the
documented 4xx in the error shape and never a 5xx:

- each path parameter and each query parameter holding a NUL character or bytes that are
  not UTF-8 (400 naming the parameter);
- a body built from the operation's request schema with one string holding a lone
  surrogate or a NUL character (400 naming that field), and a body nested 100,000 deep
  (400 invalid_json);
- forged page tokens wherever a page_token is taken (400 naming page_token);
- a URL longer than the API accepts (414).

Path ids are real objects, so each request reaches as far into the operation as the
input allows.
"""

import json
from collections import deque

import pytest
from django.test import Client

from console.api.api import api
from console.api.inputs import MAX_URL_LENGTH
from tests.foundation.test_bad_input import FORGED
from tests.trust.conftest import known_path_parameters

DOCUMENT = api.get_openapi_schema(path_prefix="/api")
OPERATIONS = {f"{method.upper()} {path}": (method.upper(), path, operation)
              for path, item in DOCUMENT["paths"].items() for method, operation in item.items()}
BAD_TEXT = [("%00", "must not contain NUL characters"), ("%FF", "is not valid UTF-8")]
HOSTILE_STRINGS = [("\ud800", "is not valid Unicode (it holds a lone surrogate)"),
                   ("a\x00", "must not contain NUL characters")]
pytestmark = pytest.mark.django_db


def resolved(schema: dict) -> dict:
    while "$ref" in schema:
        schema = DOCUMENT["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    for combined in ("allOf", "anyOf", "oneOf"):
        options = [s for s in schema.get(combined, []) if resolved(s).get("type") != "null"]
        if options:
            return resolved(options[0])
    return schema


def sample(schema: dict, depth: int = 0):
    """A value of the schema's shape: every property present, strings "ok"."""
    schema = resolved(schema)
    kind = schema.get("type")
    if depth > 6:
        return None
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object" or "properties" in schema:
        return {name: sample(item, depth + 1) for name, item in schema.get("properties", {}).items()}
    if kind == "array":
        return [sample(schema.get("items", {}), depth + 1)]
    return {"string": "ok", "integer": 1, "number": 1, "boolean": True}.get(kind)


def with_hostile_string(document, text: str):
    """The document with its deepest string replaced by text, and that field's path; a
    document without strings gets an extra field "note"."""
    pending, strings = deque([("", document)]), []
    while pending:
        where, value = pending.popleft()
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, item in items:
            field = f"{where}.{key}" if where else str(key)
            if isinstance(item, str):
                strings.append((field, value, key))
            pending.append((field, item))
    if strings:
        field, container, key = strings[-1]
        container[key] = text
        return document, field
    return {**(document if isinstance(document, dict) else {}), "note": text}, "note"


def request_body(operation: dict):
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    return sample(content["schema"]) if content else None


class Caller:
    """Sends one operation's requests with real ids in the path unless told otherwise."""

    def __init__(self, client: Client, method: str, path: str, ids: dict):
        self.client, self.method, self.path = client, method, path
        self.known = known_path_parameters(path, ids)

    def url(self, **path_values) -> str:
        url = self.path
        for name in self.path_parameters():
            url = url.replace("{" + name + "}", path_values.get(name, self.known.get(name, "x")))
        return url

    def path_parameters(self) -> list[str]:
        return [part[1:-1] for part in self.path.split("/") if part.startswith("{")]

    def send(self, url: str, body=None):
        data = "" if body is None else body if isinstance(body, str) else json.dumps(body)
        return self.client.generic(self.method, url, data, content_type="application/json")


def refused(response, status: int, key: str | None = None, field: str | None = None, message: str | None = None):
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert set(body) == {"status", "message", "key", "metadata"} and body["status"] == status
    if key:
        assert body["key"] == key, body
    if field:
        assert body["metadata"]["errors"][0]["field"] == field, body
    if message:
        assert body["metadata"]["errors"][0]["message"] == message, body


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_hostile_input_is_refused_by_every_operation(label, existing, api_key):
    method, path, operation = OPERATIONS[label]
    client = Client(headers={"Authorization": f"Bearer {api_key}"}, raise_request_exception=False)
    caller = Caller(client, method, path, existing)
    query = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]

    for name in caller.path_parameters():
        for raw, message in BAD_TEXT:
            refused(caller.send(caller.url(**{name: f"x{raw}"})), 400, "validation_error", name, message)
    for name in query:
        for raw, message in BAD_TEXT:
            refused(caller.send(f"{caller.url()}?{name}=x{raw}"), 400, "validation_error", name, message)
    if "page_token" in query:
        for forged in FORGED:
            refused(caller.send(f"{caller.url()}?page_token={forged}"), 400, "validation_error", "page_token")
    if method in ("POST", "PUT", "PATCH"):
        refused(caller.send(caller.url(), "[" * 100_000 + "]" * 100_000), 400, "invalid_json")
        for text, message in HOSTILE_STRINGS:
            body, field = with_hostile_string(request_body(operation) or {}, text)
            refused(caller.send(caller.url(), body), 400, "validation_error", field, message)
    refused(caller.send(caller.url() + "?padding=" + "x" * MAX_URL_LENGTH), 414, "uri_too_long")


def test_every_operation_is_fuzzed():
    assert len(OPERATIONS) > 50
    assert {"POST /api/connections", "GET /api/syncs/{id}/executions", "GET /api/audit_events"} <= set(OPERATIONS)
