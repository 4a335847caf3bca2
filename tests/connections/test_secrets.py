"""Stored secrets never come back: not in an API response, a console page, a log line or an error.

Each connection is created with secret values known to the test (the sandbox is
taught to accept the keys); OAuth tokens come from a real consent on the sandbox.
Then every API read and console page of those connections is fetched, the error
paths are walked (unreachable warehouse, a provider's 401), and everything said
is searched for each secret. The database column holding them is searched too.
"""

import json
import logging

import httpx
import pytest
from django.test import Client

from console.connections.models import Connection

from .helpers import consent, local_path

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
    assert wrong_secret.status_code >= 400 or "error" in wrong_secret.content.decode().lower()
    responses += [("wrong key", wrong_key), ("wrong secret", wrong_secret)]
    if wrong_key.status_code == 200:
        wrong_id = wrong_key.json()["data"]["id"]
        assert Connection.objects.get(pk=wrong_id).status != "healthy"
        responses += [("wrong key get", client.get(f"/api/connections/{wrong_id}")),
                      ("wrong key page", console.get(f"/connections/{wrong_id}"))]
    settings.SNOWFLAKE_ENDPOINT = "http://127.0.0.1:9"
    unreachable = post(client, "/api/connections/test", {"type": "snowflake", "configuration": SNOWFLAKE})
    assert unreachable.status_code >= 400 or "error" in unreachable.content.decode().lower()
    responses += [("unreachable test", unreachable),
                  ("unreachable check", console.post(f"/connections/{ids[0]}/test")),
                  ("unreachable page", console.get(f"/connections/{ids[0]}"))]
    connection.refresh_from_db()
    assert connection.status != "healthy"

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
