"""Stored secrets never come back: not in an API response, a console page, a log line or an error.

Each connection is created with secret values known to the test (the sandbox is
taught to accept the keys); OAuth tokens come from a real consent on the sandbox.
Then every API read and console page of those connections is fetched, the error
paths are walked (unreachable warehouse, a provider's 401), and everything said
is searched for each secret. The database column holding them is searched too.

The second half covers every secret the catalogue declares: each type's JSON Schema
names its sensitive fields and array-item keys, and a connection of each type is
filled with known values for all of them, then read, edited and tested against an
endpoint that echoes what it is sent.
"""

import base64
import json
import logging

import httpx
import pytest
from django import forms
from django.test import Client

from console.connections.forms import ConnectionForm
from console.connections.models import Connection
from integrations import catalogue
from integrations.base import MASK
from tests.conftest import allow_egress, free_port

from .helpers import Echo, consent, local_path

SNOWFLAKE_PASSWORD = "pw-snow-Zq81-never-shown"
SALESLOFT_KEY = "sl-key-4b2d-never-shown"
GONG_KEY = "gong-access-key-1f9a"
GONG_SECRET = "gong-secret-77e3-never-shown"
HUBSPOT_TOKEN = "pat-na1-hub-5c0d-never-shown"
WRONG_KEY = "sl-wrong-key-0a0a-never-shown"
WRONG_GONG_SECRET = "gong-wrong-secret-9b9b-never-shown"
GIVEN_SECRETS = [SNOWFLAKE_PASSWORD, SALESLOFT_KEY, GONG_SECRET, HUBSPOT_TOKEN, WRONG_KEY, WRONG_GONG_SECRET]

SNOWFLAKE = {"account": "uc193736182", "username": "user", "password": SNOWFLAKE_PASSWORD, "dbname": "database"}
TOKEN_FIELDS_NOT_SECRET = {"oauth_token_expiry"}


@pytest.fixture
def client(api):
    """The API client on a loopback host name (the sandbox only redirects back to loopback)."""
    api.defaults["SERVER_NAME"] = "127.0.0.1"
    return api


@pytest.fixture
def console(org_admin):
    browser = Client(SERVER_NAME="127.0.0.1")
    browser.force_login(org_admin)
    return browser


@pytest.fixture
def provider_keys(on_sandbox):
    """The sandbox accepts our own keys, so the values are ones no fixture data holds."""
    for provider, key in (("salesloft", {"key": SALESLOFT_KEY}),
                          ("gong", {"key": GONG_KEY, "secret": GONG_SECRET}),
                          ("hubspot", {"key": HUBSPOT_TOKEN})):
        response = httpx.post(f"{on_sandbox.url}/_sandbox/oauth/{provider}/api-keys", json=key)
        assert response.status_code == 201, response.text
    return on_sandbox


def post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def put(client, path, body):
    return client.put(path, json.dumps(body), content_type="application/json")


def create(client, name, type_id, configuration):
    response = post(client, "/api/connections", {"name": name, "type": type_id, "configuration": configuration})
    assert response.status_code == 200, response.content
    return response


def oauth_connection(client, name, type_id, configuration):
    """Create an OAuth connection and allow it on the sandbox's consent page."""
    created = create(client, name, type_id, configuration)
    callback = consent(created.json()["data"]["auth_url"], "allow")
    landing = client.get(local_path(callback))
    connection = Connection.objects.get(pk=created.json()["data"]["id"])
    assert connection.secrets.get("oauth_access_token"), sorted(connection.secrets)
    return connection, [created, landing]


def token_values(connection: Connection) -> list[str]:
    return [str(value) for name, value in connection.secrets.items()
            if name not in TOKEN_FIELDS_NOT_SECRET and value and len(str(value)) >= 8]


def assert_nothing_carries(secrets, texts):
    for label, text in texts:
        for secret in secrets:
            assert secret not in text, f"{label} shows a secret"


def test_no_response_page_or_log_line_carries_a_secret(client, console, warehouse, provider_keys, caplog, settings):
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "snowflake", "django", "console", "integrations"):
        caplog.set_level(logging.DEBUG, logger=name)

    responses = []
    snowflake = create(client, "Warehouse", "snowflake", SNOWFLAKE)
    salesloft_key = create(client, "Salesloft key", "salesloft", {"auth_method": "api_key", "api_key": SALESLOFT_KEY})
    gong = create(client, "Gong", "gong",
                  {"auth_method": "token", "access_key": GONG_KEY, "access_secret": GONG_SECRET})
    hubspot = create(client, "HubSpot", "hubspot", {"auth_method": "private_app", "private_app_token": HUBSPOT_TOKEN})
    responses += [("create snowflake", snowflake), ("create salesloft", salesloft_key), ("create gong", gong),
                  ("create hubspot", hubspot)]
    salesloft_oauth, said = oauth_connection(client, "Salesloft OAuth", "salesloft", {"auth_method": "oauth"})
    responses += [("salesloft oauth", r) for r in said]
    linkedin, said = oauth_connection(client, "LinkedIn Ads", "linkedinads", {})
    responses += [("linkedin oauth", r) for r in said]

    ids = [r.json()["data"]["id"] for r in (snowflake, salesloft_key, gong, hubspot)]
    ids += [str(salesloft_oauth.pk), str(linkedin.pk)]
    for connection in Connection.objects.filter(pk__in=ids):
        assert connection.status == "healthy", (connection.name, connection.status, connection.status_message)

    # Every API read.
    responses += [("list", client.get("/api/connections")), ("types", client.get("/api/connection_types"))]
    for type_id in ("snowflake", "salesloft", "gong", "hubspot", "linkedinads"):
        responses.append((f"type {type_id}", client.get(f"/api/connection_types/{type_id}")))
    for connection_id in ids:
        responses += [(f"get {connection_id}", client.get(f"/api/connections/{connection_id}")),
                      (f"values {connection_id}", client.get(f"/api/connections/{connection_id}/parameter_values"))]
    connection = Connection.objects.get(pk=ids[0])
    responses.append(("test stored", post(client, "/api/connections/test", {
        "type": "snowflake", "connection_id": ids[0],
        "configuration": {k: v for k, v in SNOWFLAKE.items() if k != "password"}})))
    responses.append(("test given", post(client, "/api/connections/test",
                                         {"type": "salesloft", "configuration": {"auth_method": "api_key",
                                                                                 "api_key": SALESLOFT_KEY}})))

    # Every console page of those connections, and the console's own test button.
    responses.append(("console list", console.get("/connections")))
    for connection_id in ids:
        for page in ("", "/edit"):
            response = console.get(f"/connections/{connection_id}{page}")
            assert response.status_code == 200, (connection_id, page, response.status_code)
            responses.append((f"console {connection_id}{page}", response))
        responses += [(f"console status {connection_id}", console.get(f"/connections/{connection_id}/status")),
                      (f"console test {connection_id}", console.post(f"/connections/{connection_id}/test",
                                                                     HTTP_HX_REQUEST="true"))]
    responses.append(("console parameters", console.get(f"/connections/{linkedin.pk}/parameters")))

    # Error paths: a provider's 401 (unknown key, wrong secret) and an unreachable warehouse.
    wrong_key = post(client, "/api/connections", {"name": "Wrong", "type": "salesloft",
                                                  "configuration": {"auth_method": "api_key", "api_key": WRONG_KEY}})
    wrong_secret = post(client, "/api/connections/test", {
        "type": "gong", "configuration": {"auth_method": "token", "access_key": GONG_KEY,
                                          "access_secret": WRONG_GONG_SECRET}})
    assert (wrong_secret.status_code, wrong_secret.json()["key"]) == (400, "connection_test_failed")
    responses += [("wrong key", wrong_key), ("wrong secret", wrong_secret)]
    assert wrong_key.status_code == 200  # saved, and marked unhealthy
    wrong_id = wrong_key.json()["data"]["id"]
    assert Connection.objects.get(pk=wrong_id).status == "unhealthy"
    responses += [("wrong key get", client.get(f"/api/connections/{wrong_id}")),
                  ("wrong key page", console.get(f"/connections/{wrong_id}"))]
    settings.SNOWFLAKE_ENDPOINT = "http://127.0.0.1:9"
    unreachable = post(client, "/api/connections/test", {"type": "snowflake", "configuration": SNOWFLAKE})
    assert (unreachable.status_code, unreachable.json()["key"]) == (400, "connection_test_failed")
    responses += [("unreachable test", unreachable),
                  ("unreachable check", console.post(f"/connections/{ids[0]}/test")),
                  ("unreachable page", console.get(f"/connections/{ids[0]}"))]
    connection.refresh_from_db()
    assert connection.status == "unhealthy"

    secrets = GIVEN_SECRETS + token_values(salesloft_oauth) + token_values(linkedin)
    assert len(secrets) >= len(GIVEN_SECRETS) + 2
    assert_nothing_carries(secrets, [(label, r.content.decode()) for label, r in responses])
    assert caplog.records, "nothing was logged: the log check would prove nothing"
    assert_nothing_carries(secrets, [("log", caplog.text)])


def test_secrets_are_stored_encrypted(client, warehouse, provider_keys):
    snowflake = create(client, "Warehouse", "snowflake", SNOWFLAKE).json()["data"]["id"]
    hubspot = create(client, "HubSpot", "hubspot",
                     {"auth_method": "private_app", "private_app_token": HUBSPOT_TOKEN}).json()["data"]["id"]
    salesloft, _ = oauth_connection(client, "Salesloft OAuth", "salesloft", {"auth_method": "oauth"})
    stored = {snowflake: [SNOWFLAKE_PASSWORD], hubspot: [HUBSPOT_TOKEN], salesloft.pk: token_values(salesloft)}
    for connection_id, secrets in stored.items():
        encrypted, configuration = Connection.objects.filter(pk=connection_id).values_list(
            "encrypted_secrets", "configuration").get()
        assert encrypted, "no secrets stored"
        for secret in secrets:
            assert secret not in str(encrypted)
            assert secret not in json.dumps(configuration)
    # ...and they decrypt back to what was given.
    assert Connection.objects.get(pk=snowflake).secrets["password"] == SNOWFLAKE_PASSWORD
    assert Connection.objects.get(pk=hubspot).secrets["private_app_token"] == HUBSPOT_TOKEN


# ---- every secret the catalogue declares -------------------------------------------


def declared_secrets() -> dict[str, list[tuple[str, str | None]]]:
    """{type id: [(field, item key or None), ...]}: what each type's JSON Schema marks sensitive."""
    declared = {}
    for kind in catalogue.types():
        for name, prop in catalogue.json_schema(kind)["properties"].items():
            if prop.get("sensitive"):
                declared.setdefault(kind.id, []).append((name, None))
            for key, item in prop.get("items", {}).get("properties", {}).items():
                if item.get("sensitive"):
                    declared.setdefault(kind.id, []).append((name, key))
    return declared


DECLARED = declared_secrets()


def known_value(type_id: str, name: str, key: str | None) -> str:
    return f"{type_id}-{name}-{key or 'field'}-7c1e-never-shown"


def filled_configuration(type_id: str, plain: dict) -> dict:
    """Every writable field of the type filled from its schema: secrets with known values,
    the rest with its default, its first choice, `plain` or a placeholder."""
    config = {}
    for name, prop in catalogue.json_schema(catalogue.get(type_id))["properties"].items():
        if prop.get("readOnly"):
            continue
        if prop.get("sensitive"):
            config[name] = known_value(type_id, name, None)
        elif name in plain:
            config[name] = plain[name]
        elif "default" in prop:
            config[name] = prop["default"]
        elif "enum" in prop:
            config[name] = prop["enum"][0]
        elif prop["type"] == "array" and prop["items"].get("type") == "object":
            item_keys = prop["items"]["properties"].items()
            config[name] = [{key: known_value(type_id, name, key) if item.get("sensitive") else f"x-{key}"
                             for key, item in item_keys}]
        else:
            config[name] = {"string": f"plain-{name}", "integer": 1, "number": 1, "boolean": False,
                            "array": [f"plain-{name}"]}[prop["type"]]
    return config


def leak_forms(value: str, config: dict) -> list[str]:
    """How a secret could show: itself, its first half (a quote cut short), or inside a
    Basic credential after any other value of the configuration."""
    users = [other for other in config.values() if isinstance(other, str)]
    return [value, value[:len(value) // 2]] + [base64.b64encode(f"{user}:{value}".encode()).decode()
                                              for user in users]


def stored_secrets(connection: Connection, type_id: str) -> dict:
    """{(field, key): value} of the declared secrets as the connection holds them."""
    held = connection.secrets
    found = {}
    for name, key in DECLARED[type_id]:
        value = held.get(name)
        found[(name, key)] = value if key is None else [item.get(key) for item in value or []]
    return found


def as_a_browser_submits(kind, connection: Connection) -> dict:
    """The edit form's fields as shown, submitted unchanged (password inputs come back empty)."""
    form = ConnectionForm(kind, connection=connection)
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(field.widget, forms.PasswordInput) or value in (None, "", False):
            continue
        data[name] = "on" if value is True else value
    return data


@pytest.fixture
def echo(settings, on_sandbox):
    """Providers, Snowflake and HTTP API endpoints all answer from an endpoint that
    quotes back in a 401 whatever it was sent."""
    endpoint = Echo(status=401)
    allow_egress(endpoint.url)
    settings.SANDBOX_URL = endpoint.url
    settings.SNOWFLAKE_ENDPOINT = endpoint.url
    yield endpoint
    endpoint.close()


def test_the_schemas_declare_every_secret_field_and_item_key():
    from_fields = {kind.id: [(f.name, None) for f in kind.fields if f.secret]
                   + [(f.name, key) for f in kind.fields for key in f.secret_keys]
                   for kind in catalogue.types() if any(f.holds_secrets for f in kind.fields)}
    assert {k: sorted(v, key=str) for k, v in DECLARED.items()} == \
        {k: sorted(v, key=str) for k, v in from_fields.items()}
    assert ("value" in dict(DECLARED["httpapi"]).values()) and ("headers", "value") in DECLARED["httpapi"]
    assert ("private_key", None) in DECLARED["snowflake"]


@pytest.mark.parametrize("type_id", sorted(DECLARED))
def test_no_declared_secret_is_shown_anywhere(type_id, client, console, echo, caplog):
    caplog.set_level(logging.DEBUG)
    kind = catalogue.get(type_id)
    closed = allow_egress(f"127.0.0.1:{free_port()}")  # nothing listens there
    plain = {"url": f"{echo.url}/in", "healthcheck": f"{echo.url}/health", "domain": closed,
             "hostname": "127.0.0.1", "port": int(closed.split(":")[1])}
    config = filled_configuration(type_id, plain)
    known = {(name, key): known_value(type_id, name, key) for name, key in DECLARED[type_id]}
    said = []

    created = post(client, "/api/connections", {"name": "Filled", "type": type_id, "configuration": config,
                                                 "validate": False})
    assert created.status_code == 200, created.content
    connection = Connection.objects.get(pk=created.json()["data"]["id"])
    expected = {(name, key): value if key is None else [value] for (name, key), value in known.items()}
    assert stored_secrets(connection, type_id) == expected
    assert not any(value in json.dumps(connection.configuration) + connection.encrypted_secrets
                   for value in known.values())
    path = f"/api/connections/{connection.pk}"
    got = client.get(path)
    shown = got.json()["data"]["configuration"]
    for name, key in DECLARED[type_id]:
        assert shown.get(name) is None if key is None else shown[name][0][key] == MASK
    said += [created, got, client.get("/api/connections")]

    # Sent back as shown (masked), through the API and the console's edit form: nothing changes.
    updated = put(client, path, {"name": "Filled", "configuration": shown, "validate": False})
    assert updated.status_code == 200, updated.content
    connection.refresh_from_db()
    assert stored_secrets(connection, type_id) == expected
    edit_page = console.get(f"/connections/{connection.pk}/edit")
    assert edit_page.status_code == 200
    saved = console.post(f"/connections/{connection.pk}/edit", as_a_browser_submits(kind, connection))
    assert saved.status_code == 302, saved.content.decode()[-2000:]
    connection.refresh_from_db()
    assert stored_secrets(connection, type_id) == expected
    said += [updated, edit_page, saved, console.get(f"/connections/{connection.pk}"), console.get("/connections")]

    # Errors: a setting the type does not have, and a test against the echoing endpoint.
    invalid = post(client, "/api/connections", {"name": "Bad", "type": type_id,
                                                 "configuration": {**config, "not_a_setting": 1}})
    assert (invalid.status_code, invalid.json()["metadata"]["errors"]) == \
        (400, [{"field": "configuration.not_a_setting", "message": f"is not a {kind.name} setting"}])
    tested = post(client, "/api/connections/test", {"type": type_id, "configuration": config})
    assert (tested.status_code, tested.json()["key"]) == (400, "connection_test_failed"), tested.content
    checked = console.post(f"/connections/{connection.pk}/test", HTTP_HX_REQUEST="true")
    assert checked.status_code == 200
    connection.refresh_from_db()
    assert connection.status in ("unhealthy", "needs_reconnect") and connection.status_message
    said += [invalid, tested, checked]

    texts = [(f"{r.request['REQUEST_METHOD']} {r.request['PATH_INFO']}", r.content.decode()) for r in said]
    texts += [("status message", connection.status_message), ("log", caplog.text)]
    assert caplog.records, "nothing was logged: the log check would prove nothing"
    assert_nothing_carries([form for value in known.values() for form in leak_forms(value, config)], texts)


def test_the_header_value_arrives_but_no_error_quotes_it(client, echo):
    """The health check's host quotes the request back in its 401: the header got there
    with its real value, the error message does not carry it."""
    value = "hdr-value-31d7-never-shown"
    response = post(client, "/api/connections/test", {"type": "httpapi", "configuration": {
        "url": f"{echo.url}/in", "healthcheck": f"{echo.url}/health",
        "headers": [{"name": "X-Api-Key", "value": value}]}})
    assert [(r["path"], r["headers"]["x-api-key"]) for r in echo.requests] == [("/health", value)]
    assert response.status_code == 400 and response.json()["key"] == "connection_test_failed"
    assert value not in response.content.decode()


def test_header_values_are_kept_replaced_and_removed_by_name(client, console):
    created = post(client, "/api/connections", {"name": "Hook", "type": "httpapi", "validate": False,
                                                 "configuration": {"url": "https://hooks.example.com/in", "headers": [
                                                     {"name": "X-Keep", "value": "keep-1111"},
                                                     {"name": "X-Change", "value": "change-2222"},
                                                     {"name": "X-Drop", "value": "drop-3333"}]}})
    assert created.status_code == 200, created.content
    path = f"/api/connections/{created.json()['data']['id']}"
    assert client.get(path).json()["data"]["configuration"]["headers"] == [
        {"name": "X-Keep", "value": MASK}, {"name": "X-Change", "value": MASK}, {"name": "X-Drop", "value": MASK}]

    updated = put(client, path, {"name": "Hook", "validate": False, "configuration": {
        "url": "https://hooks.example.com/in", "headers": [
            {"name": "X-Keep", "value": MASK}, {"name": "X-Change", "value": "changed-4444"},
            {"name": "X-Blank", "value": ""}, {"name": "X-New", "value": "new-5555"}]}})
    assert updated.status_code == 200, updated.content
    connection = Connection.objects.get(pk=created.json()["data"]["id"])
    assert connection.secrets["headers"] == [
        {"name": "X-Keep", "value": "keep-1111"}, {"name": "X-Change", "value": "changed-4444"},
        {"name": "X-Blank", "value": ""}, {"name": "X-New", "value": "new-5555"}]

    # An empty value keeps the stored one too; a header left out is gone.
    put(client, path, {"name": "Hook", "validate": False, "configuration": {
        "url": "https://hooks.example.com/in", "headers": [{"name": "X-New", "value": ""}]}})
    connection.refresh_from_db()
    assert connection.secrets["headers"] == [{"name": "X-New", "value": "new-5555"}]

    # A masked value with nothing stored under that name is refused, naming the item.
    refused = put(client, path, {"name": "Hook", "validate": False, "configuration": {
        "url": "https://hooks.example.com/in", "headers": [{"name": "X-Renamed", "value": MASK}]}})
    assert refused.status_code == 400
    assert refused.json()["metadata"]["errors"] == [{"field": "configuration.headers.0.value",
                                                     "message": "is masked but nothing is stored for it; "
                                                                "give the value"}]
    connection.refresh_from_db()
    assert connection.secrets["headers"] == [{"name": "X-New", "value": "new-5555"}]

    # The console shows the names with masked values, and saving its form keeps the value.
    page = console.get(f"/connections/{connection.pk}").content.decode()
    edit = console.get(f"/connections/{connection.pk}/edit").content.decode()
    assert f"X-New: {MASK}" in page and f"X-New: {MASK}" in edit and "new-5555" not in page + edit
    kind = catalogue.get("httpapi")
    assert console.post(f"/connections/{connection.pk}/edit", as_a_browser_submits(kind, connection)).status_code == 302
    connection.refresh_from_db()
    assert connection.secrets["headers"] == [{"name": "X-New", "value": "new-5555"}]


def test_the_schema_marks_header_values_sensitive(client):
    schema = client.get("/api/connection_types/httpapi").json()
    value = schema["properties"]["headers"]["items"]["properties"]["value"]
    assert (value["sensitive"], value["writeOnly"]) == (True, True)
    assert "sensitive" not in schema["properties"]["headers"]["items"]["properties"]["name"]


def test_headers_stored_in_plain_configuration_move_to_the_secrets(organization):
    """The data migration: connections saved before header values were secret."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("console.connections.migrations.0003_secret_items")
    headers = [{"name": "X-Old", "value": "old-6666"}]
    old = Connection.objects.create(organization=organization, name="Old", type="httpapi",
                                    configuration={"url": "https://hooks.example.com/in", "headers": headers},
                                    secrets={"token": "tok-7777"})
    migration.to_secrets(apps, None)
    old.refresh_from_db()
    assert old.configuration == {"url": "https://hooks.example.com/in"}
    assert old.secrets == {"token": "tok-7777", "headers": headers}
    migration.to_configuration(apps, None)
    old.refresh_from_db()
    assert (old.configuration["headers"], old.secrets) == (headers, {"token": "tok-7777"})
