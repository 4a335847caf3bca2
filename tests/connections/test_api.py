"""/api/connections and /api/connection_types, with the product brief's requests verbatim."""

import json
import logging
from urllib.parse import parse_qs, urlsplit

import pytest

from console.connections.models import Connection

from .helpers import consent, local_path

SEED_HEADERS = {"HTTP_X_POLYTOMIC_VERSION": "2024-02-08", "HTTP_ACCEPT": "application/json"}

# Seeds 000, 001 and 003, step 1 (the same Snowflake request in all three).
SNOWFLAKE = """{
"name": "Snowflake Connection",
"type": "snowflake",
"configuration": {
"account": "uc193736182",
"username": "user",
"password": "secret",
"dbname": "database"
}
}"""
SALESLOFT = '{"name": "My Salesloft Connection","type": "salesloft", "configuration": {"auth_method": "oauth"}}'
GONG = '{"name": "My Gong Connection","type": "gong", "configuration": {"auth_method": "oauth"}}'
LINKEDIN = '{"type":"linkedinads", "name":"LinkedIn Ads","configuration":{}}'
LINKEDIN_ACCOUNTS = '{"type":"linkedinads", "name":"LinkedIn Ads","configuration":{"accounts":[]}}'


@pytest.fixture
def client(api):
    """The API client, on a loopback host name (the sandbox only redirects back to loopback)."""
    api.defaults["SERVER_NAME"] = "127.0.0.1"
    return api


def post(client, path, body, **extra):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(path, data, content_type="application/json", **{**SEED_HEADERS, **extra})


def put(client, path, body):
    return client.put(path, json.dumps(body), content_type="application/json")


def errors_of(response) -> dict:
    return {e["field"]: e["message"] for e in response.json()["metadata"]["errors"]}


def authorized(client, type_body, decision="allow"):
    """Create an OAuth connection through the API and answer its consent page."""
    created = post(client, "/api/connections", type_body).json()["data"]
    callback = consent(created["auth_url"], decision)
    page = client.get(local_path(callback))
    return Connection.objects.get(pk=created["id"]), page


# ---- the seeds -----------------------------------------------------------------


def test_seed_snowflake_connection_is_created_and_checked(client, warehouse):
    response = post(client, "/api/connections", SNOWFLAKE)
    assert response.status_code == 200, response.content
    assert response["X-Polytomic-Version"] == "2024-02-08"
    data = response.json()["data"]
    assert data["name"] == "Snowflake Connection"
    assert data["type"]["id"] == "snowflake"
    assert data["configuration"] == {"account": "uc193736182", "username": "user", "dbname": "database"}
    assert data["status"] == "healthy" and data["auth_url"] is None
    assert Connection.objects.get(pk=data["id"]).secrets == {"password": "secret"}


def test_unreachable_warehouse_is_saved_unhealthy_with_the_reason(client, settings):
    settings.SNOWFLAKE_ENDPOINT = "http://127.0.0.1:9"
    settings.EGRESS_ALLOW = [*settings.EGRESS_ALLOW, "127.0.0.1:9"]  # closed, yet allowed
    data = post(client, "/api/connections", SNOWFLAKE).json()["data"]
    assert data["status"] == "unhealthy"
    assert "Could not connect to Snowflake" in data["status_error"]


@pytest.mark.parametrize("body, host", [(SALESLOFT, "/salesloft/oauth/authorize"),
                                        (GONG, "/gong/oauth2/authorize"),
                                        (LINKEDIN, "/linkedin/oauth/v2/authorization")])
def test_seed_oauth_connections_return_an_auth_url(client, on_sandbox, body, host):
    response = post(client, "/api/connections", body)
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["status"] == "pending_auth"
    url = urlsplit(data["auth_url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == on_sandbox.url + host
    query = parse_qs(url.query)
    assert query["redirect_uri"] == ["http://127.0.0.1/connections/oauth/callback"]
    assert len(query["state"][0]) >= 32
    assert query["client_id"] == ["sandbox-client"]


def test_seed_linkedin_accounts_update_with_post(client, on_sandbox):
    connection, _ = authorized(client, LINKEDIN)
    values = client.get(f"/api/connections/{connection.pk}/parameter_values", **SEED_HEADERS)
    assert values.status_code == 200, values.content
    accounts = values.json()["data"]["accounts"]["values"]
    assert {"value": "urn:li:sponsoredAccount:512630692", "label": "Polytomic Inc. (512630692)",
            "path": None} in accounts
    response = post(client, f"/api/connections/{connection.pk}", LINKEDIN_ACCOUNTS)
    assert response.status_code == 200, response.content
    assert response.json()["data"]["configuration"]["accounts"] == []
    chosen = {"type": "linkedinads", "name": "LinkedIn Ads", "configuration": {"accounts": [accounts[0]]}}
    data = post(client, f"/api/connections/{connection.pk}", chosen).json()["data"]
    assert data["configuration"]["accounts"] == [accounts[0]["value"]]
    assert data["status"] == "healthy"


def test_salesforce_seed_configuration_is_accepted(client, on_sandbox):
    body = {"name": "Salesforce connection", "type": "salesforce", "configuration": {
        "client_id": "a45gadsfdsaf47byor2ugfbhsgllpf12gf56gfds",
        "client_secret": "ay8d5hdepz62px8lqeoakuea2ccl4rxm13i6tbyorxhu1i20kc8ruvksmzxq",
        "connect_mode": "api", "daily_api_calls": 0, "domain": "http://instance.my.salesforce.com",
        "enable_multicurrency_lookup": False, "enable_tooling": False, "enforce_api_limits": False,
        "oauth_refresh_token": "dasfdasz62px8lqeoakuea2ccl4rxm13i6tbyorxhu1i20kc8ruvksmzxq"}}
    response = post(client, "/api/connections", {**body, "validate": False})
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["auth_url"] is None
    assert set(data["configuration"]) == {"connect_mode", "daily_api_calls", "domain", "enable_multicurrency_lookup",
                                          "enable_tooling", "enforce_api_limits"}
    assert "a45gadsfdsaf47byor2ugfbhsgllpf12gf56gfds" not in response.content.decode()


def test_salesforce_browser_mode_returns_an_auth_url_with_pkce(client, on_sandbox):
    body = {"name": "SF", "type": "salesforce", "configuration": {"domain": "https://x.my.salesforce.com"}}
    data = post(client, "/api/connections", body).json()["data"]
    query = parse_qs(urlsplit(data["auth_url"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert data["configuration"]["connect_mode"] == "browser"


# ---- validation ----------------------------------------------------------------


@pytest.mark.parametrize("body, field, status", [
    ({"name": "x", "type": "oracle", "configuration": {}}, "type", 400),
    ({"name": "x", "type": "snowflake", "configuration": {"username": "u", "password": "p", "dbname": "d"}},
     "configuration.account", 400),
    ({"name": "x", "type": "snowflake", "configuration": {"account": 5, "username": "u", "password": "p",
                                                          "dbname": "d"}}, "configuration.account", 400),
    ({"name": "x", "type": "salesloft", "configuration": {"auth_method": "password"}},
     "configuration.auth_method", 400),
    ({"name": "x", "type": "salesloft", "configuration": {"auth_method": "api_key"}}, "configuration.api_key", 400),
    ({"name": "x", "type": "gong", "configuration": {"auth_method": "token", "access_key": "k"}},
     "configuration.access_secret", 400),
    ({"name": "x", "type": "salesforce", "configuration": {"domain": "a.my.salesforce.com",
                                                           "daily_api_calls": "many"}},
     "configuration.daily_api_calls", 400),
    ({"name": "x", "type": "salesforce", "configuration": {"domain": "a.my.salesforce.com",
                                                           "connect_mode": "clientcredentials"}},
     "configuration.client_id", 400),
    ({"name": "x", "type": "snowflake", "configuration": {"account": "a", "username": "u", "password": "p",
                                                          "dbname": "d", "passwd": "typo"}},
     "configuration.passwd", 400),
    ({"name": "x", "type": "snowflake", "configuration": "account=a"}, "configuration", 400),
    ({"type": "snowflake", "configuration": {}}, "name", 400),
    ({"name": "  ", "type": "snowflake", "configuration": {}}, "name", 400),
])
def test_bad_configurations_name_the_field(client, body, field, status):
    response = post(client, "/api/connections", body)
    assert response.status_code == status, response.content
    error = response.json()
    assert error["key"] == "validation_error"
    assert field in errors_of(response), error
    assert error["message"].startswith(field)
    assert not Connection.objects.exists()


def test_trailing_comma_gets_line_and_column(client):
    response = post(client, "/api/connections", '{"name": "x", "type": "snowflake", "configuration": {},\n}')
    assert response.status_code == 400
    assert response.json()["metadata"]["line"] == 2


# ---- read, update, delete ---------------------------------------------------------


def test_get_list_update_and_delete(client, warehouse):
    created = post(client, "/api/connections", SNOWFLAKE).json()["data"]
    path = f"/api/connections/{created['id']}"
    assert client.get(path).json()["data"]["id"] == created["id"]
    assert [c["id"] for c in client.get("/api/connections").json()["data"]] == [created["id"]]

    # Full replacement: warehouse set, the omitted password kept, dbname changed.
    body = {"name": "Renamed", "configuration": {"account": "uc193736182", "username": "user",
                                                  "dbname": "other", "warehouse": "COMPUTE_WH"}}
    response = put(client, path, body)
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["name"] == "Renamed"
    assert data["configuration"] == {"account": "uc193736182", "username": "user", "dbname": "other",
                                     "warehouse": "COMPUTE_WH"}
    assert Connection.objects.get(pk=created["id"]).secrets == {"password": "secret"}

    # Omitted plain fields are cleared.
    body["configuration"].pop("warehouse")
    assert "warehouse" not in put(client, path, body).json()["data"]["configuration"]

    # Changing the type is refused.
    response = put(client, path, {**body, "type": "postgresql"})
    assert response.status_code == 400 and "type" in errors_of(response)

    response = client.delete(path)
    assert response.status_code == 200 and response.content == b""
    assert client.get(path).status_code == 404


def test_readonly_fields_from_a_get_can_be_sent_back(client, on_sandbox):
    connection, _ = authorized(client, SALESLOFT)
    data = client.get(f"/api/connections/{connection.pk}").json()["data"]
    assert data["configuration"]["connected_user"] == "admin@sandbox.example"
    response = put(client, f"/api/connections/{connection.pk}",
                   {"name": data["name"], "configuration": {**data["configuration"], "connected_user": "x@y"}})
    assert response.status_code == 200
    assert response.json()["data"]["configuration"]["connected_user"] == "admin@sandbox.example"
    assert response.json()["data"]["status"] == "healthy"


def test_reconnect_asks_for_consent_again(client, on_sandbox):
    connection, _ = authorized(client, SALESLOFT)
    response = put(client, f"/api/connections/{connection.pk}",
                   {"name": "S", "configuration": {"auth_method": "oauth"}, "reconnect": True})
    data = response.json()["data"]
    assert data["status"] == "pending_auth" and data["auth_url"]


def test_delete_refuses_a_connection_in_use(client, warehouse, organization):
    from console.datamodels.models import DataModel

    created = post(client, "/api/connections", SNOWFLAKE).json()["data"]
    connection = Connection.objects.get(pk=created["id"])
    DataModel.objects.create(organization=organization, connection=connection, name="Active Users",
                             configuration={"query": "select 1"})
    for suffix in ("", "?force=true"):
        response = client.delete(f"/api/connections/{created['id']}{suffix}")
        assert response.status_code == 422
        body = response.json()
        assert body["key"] == "connection_in_use"
        assert "Active Users" in body["message"]
        assert body["metadata"]["used_by"][0]["name"] == "Active Users"
    assert Connection.objects.filter(pk=created["id"]).exists()


def test_other_organizations_get_404(client, other_api, warehouse):
    created = post(client, "/api/connections", SNOWFLAKE).json()["data"]
    path = f"/api/connections/{created['id']}"
    body = json.dumps({"name": "mine now", "configuration": {}})
    assert other_api.get(path).status_code == 404
    assert other_api.put(path, body, content_type="application/json").status_code == 404
    assert other_api.post(path, body, content_type="application/json").status_code == 404
    assert other_api.delete(path).status_code == 404
    assert other_api.get(f"{path}/parameter_values").status_code == 404
    assert other_api.get("/api/connections").json()["data"] == []
    test = json.dumps({"type": "snowflake", "configuration": {}, "connection_id": created["id"]})
    assert other_api.post("/api/connections/test", test, content_type="application/json").status_code == 404
    assert Connection.objects.get(pk=created["id"]).name == "Snowflake Connection"


def test_unknown_connection_is_404(client):
    assert client.get("/api/connections/00000000-0000-0000-0000-000000000000").status_code == 404


# ---- connection types, test -------------------------------------------------------


def test_connection_types(client):
    data = client.get("/api/connection_types").json()["data"]
    ids = {t["id"] for t in data}
    assert {"snowflake", "postgresql", "mysql", "salesloft", "gong", "linkedinads", "salesforce", "hubspot",
            "httpapi"} <= ids
    salesloft = next(t for t in data if t["id"] == "salesloft")
    assert salesloft["use_oauth"] is True and salesloft["capabilities"]["destination"] is True
    schema = client.get("/api/connection_types/salesforce").json()
    assert "data" not in schema
    assert schema["required"] == ["domain", "connect_mode"]
    assert schema["properties"]["connect_mode"]["enum"] == ["browser", "clientcredentials", "api"]  # code is refused
    assert schema["properties"]["client_secret"]["sensitive"] is True
    assert schema["properties"]["instance_url_override"]["readOnly"] is True
    assert client.get("/api/connection_types/oracle").status_code == 404


def test_test_endpoint(client, warehouse, settings):
    config = json.loads(SNOWFLAKE)["configuration"]
    response = post(client, "/api/connections/test", {"type": "snowflake", "configuration": config})
    assert response.status_code == 200 and response.content == b""
    settings.SNOWFLAKE_ENDPOINT = "http://127.0.0.1:9"
    settings.EGRESS_ALLOW = [*settings.EGRESS_ALLOW, "127.0.0.1:9"]  # closed, yet allowed
    response = post(client, "/api/connections/test", {"type": "snowflake", "configuration": config})
    assert response.status_code == 400
    assert "Could not connect to Snowflake" in response.json()["message"]
    response = post(client, "/api/connections/test", {"type": "snowflake", "configuration": {"account": "a"}})
    assert response.status_code == 400 and "configuration.username" in errors_of(response)
    assert not Connection.objects.exists()


def test_test_endpoint_uses_a_stored_connection_secrets(client, warehouse):
    created = post(client, "/api/connections", SNOWFLAKE).json()["data"]
    config = {"account": "uc193736182", "username": "user", "dbname": "database"}  # no password: the stored one
    alone = post(client, "/api/connections/test", {"type": "snowflake", "configuration": config})
    assert alone.status_code == 400 and "configuration.password" in errors_of(alone)
    response = post(client, "/api/connections/test",
                    {"type": "snowflake", "configuration": config, "connection_id": created["id"]})
    assert response.status_code == 200 and response.content == b""


# ---- secrets ------------------------------------------------------------------------


def test_no_response_or_log_line_carries_a_secret(client, warehouse, on_sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    password = "pw-Zq81-never-shown"
    body = json.loads(SNOWFLAKE)
    body["configuration"]["password"] = password
    responses = [post(client, "/api/connections", body)]
    connection_id = responses[0].json()["data"]["id"]
    responses += [client.get("/api/connections"), client.get(f"/api/connections/{connection_id}"),
                  put(client, f"/api/connections/{connection_id}", {"name": "n", "configuration": body["configuration"]})]
    salesloft, page = authorized(client, SALESLOFT)
    responses += [page, client.get("/api/connections"), client.get(f"/api/connections/{salesloft.pk}")]
    key = post(client, "/api/connections", {"name": "k", "type": "salesloft",
                                            "configuration": {"auth_method": "api_key", "api_key": "sandbox-api-key"}})
    responses += [key, client.get("/api/connections")]
    stored = Connection.objects.get(pk=salesloft.pk).secrets
    secrets = [password, "sandbox-api-key", *(v for k, v in stored.items() if k != "oauth_token_expiry")]
    assert len(secrets) >= 4
    for response in responses:
        text = response.content.decode()
        for secret in secrets:
            assert str(secret) not in text
    for secret in secrets:
        assert str(secret) not in caplog.text
    # Stored encrypted, not as plain text.
    raw = Connection.objects.filter(pk=connection_id).values_list("encrypted_secrets", "configuration").get()
    assert password not in raw[0] and password not in json.dumps(raw[1])
