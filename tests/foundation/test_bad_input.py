"""Bad input is a 4xx in the error shape, naming the field, never a 500: JSON nested too
deep, NUL characters and invalid Unicode in bodies, query strings and path parameters,
forged page tokens, over-long URLs and bodies, and a database busy with other writers."""

import base64
import json

import pytest
from django.db import OperationalError

from console.api.inputs import MAX_JSON_DEPTH, MAX_URL_LENGTH
from console.connections import services as connection_services
from console.connections.models import Connection

pytestmark = pytest.mark.django_db


def post(api, path, body: str, **extra):
    return api.post(path, data=body, content_type="application/json", **extra)


def error(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"status", "message", "key", "metadata"} and body["status"] == status
    return body


def field_errors(response) -> list[dict]:
    return error(response, 400)["metadata"]["errors"]


def nested(depth: int) -> dict:
    value = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def test_json_nested_deeper_than_the_limit_is_refused_before_it_is_parsed(api):
    at_limit = {"type": "postgresql", "configuration": nested(MAX_JSON_DEPTH - 1)}  # the body is one more level
    assert field_errors(post(api, "/api/connections/test", json.dumps(at_limit))) == [
        {"field": "configuration.a", "message": "is not a PostgreSQL setting"}]
    over = {"type": "postgresql", "configuration": nested(MAX_JSON_DEPTH)}
    body = error(post(api, "/api/connections/test", json.dumps(over)), 400)
    assert body["key"] == "invalid_json"
    assert body["message"] == f"Request body is nested more than {MAX_JSON_DEPTH} levels deep."
    hostile = "[" * 200_000 + "]" * 200_000  # Python's own parser would give up on this
    assert error(post(api, "/api/connections", hostile), 400)["key"] == "invalid_json"


def test_brackets_inside_strings_are_not_nesting(api):
    body = {"type": "postgresql", "configuration": {"hostname": "[" * 500, "database": "{" * 500}}
    response = post(api, "/api/connections/test", json.dumps(body))
    assert error(response, 400)["key"] == "validation_error"  # the view's answer: it got the body
    assert [e["field"] for e in field_errors(response)] == ["configuration.username"]


@pytest.mark.parametrize("text, message", [
    ("\\ud800", "is not valid Unicode (it holds a lone surrogate)"),
    ("abc\\udfff", "is not valid Unicode (it holds a lone surrogate)"),
    ("a\\u0000b", "must not contain NUL characters"),
])
def test_nul_and_lone_surrogates_in_a_body_name_the_field(api, text, message):
    body = ('{"name": "Warehouse", "type": "postgresql", "validate": false, "configuration": '
            '{"hostname": "db.example.com", "database": "d", "username": "u", "fields": ["ok", "%s"]}}' % text)
    assert field_errors(post(api, "/api/connections", body)) == [
        {"field": "configuration.fields.1", "message": message}]
    name = '{"name": "%s", "type": "postgresql", "configuration": {}}' % text
    assert field_errors(post(api, "/api/connections", name)) == [{"field": "name", "message": message}]
    key = '{"name": "W", "type": "postgresql", "configuration": {"%s": 1}}' % text
    assert field_errors(post(api, "/api/connections", key)) == [
        {"field": "configuration", "message": f"has a field name that {message}"}]
    assert not Connection.objects.exists()


def test_a_body_that_is_not_utf8_is_refused(api):
    body = error(post(api, "/api/connections", b'{"name": "\xff\xfe"}'), 400)
    assert body["message"] == "Request body is not valid UTF-8."


@pytest.mark.parametrize("raw, message", [
    ("%ED%A0%80", "is not valid UTF-8"),  # an encoded lone surrogate
    ("%FF", "is not valid UTF-8"),
    ("a%00b", "must not contain NUL characters"),
])
def test_bad_text_in_a_query_string_names_the_parameter(api, raw, message):
    assert field_errors(api.get(f"/api/audit_events?limit=5&action={raw}")) == [
        {"field": "action", "message": message}]
    assert field_errors(api.get(f"/api/audit_events?{raw}=1")) == [
        {"field": "a\x00b" if "%00" in raw else "\ufffd" * raw.count("%"), "message": message}]


@pytest.mark.parametrize("raw, message", [
    ("%ED%A0%80", "is not valid UTF-8"),
    ("x%00", "must not contain NUL characters"),
])
def test_bad_text_in_a_path_parameter_names_it(api, organization, raw, message):
    assert field_errors(api.get(f"/api/connection_types/{raw}")) == [{"field": "type_id", "message": message}]
    connection = Connection.objects.create(organization=organization, name="W", type="postgresql")
    assert field_errors(api.get(f"/api/connections/{connection.pk}/{raw}")) == [
        {"field": "path", "message": message}]  # no such route: the path as a whole


def test_an_over_long_url_is_a_414(api):
    prefix = "/api/connection_types/"
    longest = prefix + "x" * (MAX_URL_LENGTH - len(prefix))
    assert error(api.get(longest), 404)["key"] == "not_found"
    body = error(api.get(longest + "x"), 414)
    assert body["key"] == "uri_too_long" and body["metadata"] == {"max_length": MAX_URL_LENGTH}
    assert error(api.get("/api/audit_events?action=" + "x" * MAX_URL_LENGTH), 414)["key"] == "uri_too_long"


def test_an_over_large_body_is_a_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"name": "x" * 2000, "type": "postgresql", "configuration": {}})
    assert error(post(api, "/api/connections", body), 413)["key"] == "request_too_large"


def token(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


FORGED = [
    "not-base64!!", "%00", "W10", token([]), token("x"), token({"a": 1}), token([None, None]),
    token(["2026-01-01T00:00:00+00:00", "not-an-id"]), token(["yesterday", "1"]), token([{"a": 1}, [2]]),
    token([1, 2, 3]), token(["2026-01-01T00:00:00+00:00", "9" * 40]), token(["2026-01-01T00:00:00\x00", "1"]),
    token(["2026-01-01T00:00:00+00:00", "\ud800"]),
]


@pytest.mark.parametrize("forged", FORGED)
@pytest.mark.parametrize("path", ["/api/syncs", "/api/audit_events"])
def test_a_forged_page_token_is_a_400_naming_it(api, path, forged):
    assert [e["field"] for e in field_errors(api.get(f"{path}?page_token={forged}"))] == ["page_token"]


def test_a_database_busy_with_other_writers_is_a_409_that_may_be_sent_again(api, monkeypatch):
    real = connection_services.create_connection
    calls = []

    def busy_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return real(*args, **kwargs)

    monkeypatch.setattr(connection_services, "create_connection", busy_once)
    api.raise_request_exception = False
    body = json.dumps({"name": "W", "type": "postgresql", "validate": False,
                       "configuration": {"hostname": "db.example.com", "database": "d", "username": "u"}})
    refused = post(api, "/api/connections", body, HTTP_IDEMPOTENCY_KEY="busy-0001")
    assert error(refused, 409)["key"] == "database_busy" and refused["Retry-After"] == "1"
    again = post(api, "/api/connections", body, HTTP_IDEMPOTENCY_KEY="busy-0001")
    assert again.status_code == 200 and "Idempotent-Replayed" not in again
    assert Connection.objects.get().name == "W"
