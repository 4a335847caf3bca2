"""Seed 002's Salesforce connection settings, each honoured or refused by name."""

import pytest

from console.connections.models import ConnectionStatus
from integrations import registry

from .test_api import authorized, errors_of, post

pytestmark = pytest.mark.django_db

BROWSER = {"name": "Salesforce", "type": "salesforce", "configuration": {"domain": "acme.my.salesforce.com"}}


@pytest.fixture
def client(api):
    api.defaults["SERVER_NAME"] = "127.0.0.1"  # the sandbox only redirects back to loopback
    return api


def configured(**settings) -> dict:
    return {**BROWSER, "configuration": {**BROWSER["configuration"], **settings}}


def test_connect_mode_code_is_refused_naming_the_supported_modes_and_why(client, on_sandbox):
    response = post(client, "/api/connections", configured(connect_mode="code"))
    assert response.status_code == 400
    message = errors_of(response)["configuration.connect_mode"]
    assert message.startswith("code is not supported: the device-code flow needs the console to poll Salesforce")
    assert message.endswith("Use one of browser, clientcredentials, api")


def test_the_connection_type_schema_does_not_offer_code(client):
    schema = client.get("/api/connection_types/salesforce").json()
    assert schema["properties"]["connect_mode"]["enum"] == ["browser", "clientcredentials", "api"]
    listed = {row["id"]: row for row in client.get("/api/connection_types").json()["data"]}
    form = listed["salesforce"]["configurationForm"]["jsonschema"]["properties"]["connect_mode"]
    assert "code" not in form["enum"]


@pytest.mark.parametrize("name", ["enable_tooling", "enable_multicurrency_lookup"])
def test_unsupported_switches_are_refused_when_on_and_accepted_off(client, on_sandbox, name):
    response = post(client, "/api/connections", configured(**{name: True}))
    assert response.status_code == 400
    assert errors_of(response)[f"configuration.{name}"].startswith("true is not supported")

    response = post(client, "/api/connections", configured(**{name: False}))
    assert response.status_code == 200, response.content
    assert response.json()["data"]["configuration"][name] is False


def test_enforce_api_limits_needs_a_daily_cap(client, on_sandbox):
    response = post(client, "/api/connections", configured(enforce_api_limits=True))
    assert response.status_code == 400
    assert errors_of(response) == {"configuration.daily_api_calls": "must be set when enforce_api_limits is true"}


def test_username_and_instance_url_are_filled_after_oauth_and_read_only(client, on_sandbox):
    connection, _ = authorized(client, configured(username="someone@else", instance_url_override="http://x"))
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.HEALTHY, connection.status_message
    shown = client.get(f"/api/connections/{connection.pk}").json()["data"]["configuration"]
    assert shown["username"] == "admin@sandbox.example"  # the identity service's answer, not the caller's
    assert shown["instance_url_override"] == f"{on_sandbox.url}/salesforce"

    schema = client.get("/api/connection_types/salesforce").json()["properties"]
    assert schema["username"]["readOnly"] and schema["instance_url_override"]["readOnly"]


SEED_002_SETTINGS = {"client_id", "client_secret", "connect_mode", "daily_api_calls", "domain",
                     "enable_multicurrency_lookup", "enable_tooling", "enforce_api_limits", "oauth_refresh_token"}


def test_the_settings_accepted_are_seed_002s_and_each_is_reviewed_here():
    """A setting added to the type must be honoured or refused, with a test above, before this passes."""
    fields = registry.get("salesforce").fields
    assert {f.name for f in fields if not f.readonly} == SEED_002_SETTINGS
    assert {f.name for f in fields if f.readonly} == {"username", "instance_url_override"}
