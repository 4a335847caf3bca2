"""Console pages for connections (Django test client; the browser tests drive the OAuth popup)."""

import pytest
from django.test import Client

from console.accounts.services import sign_up
from console.connections import demo, services
from console.connections.models import Connection, ConnectionStatus

PASSWORD = "pw-console-9f3c-hidden"


@pytest.fixture
def snowflake(organization, warehouse):
    return services.create_connection(
        organization, name="Warehouse", type_id="snowflake",
        configuration={"account": "uc193736182", "username": "user", "password": PASSWORD, "dbname": "database"})


def test_list_shows_health_badges(console, snowflake, organization):
    Connection.objects.create(organization=organization, name="Gone", type="salesloft",
                              configuration={"auth_method": "oauth"}, status=ConnectionStatus.NEEDS_RECONNECT)
    page = console.get("/connections").content.decode()
    assert "Warehouse" in page and "Healthy" in page
    assert "Gone" in page and "Needs reconnect" in page


def test_catalogue_search(console):
    page = console.get("/connections/new").content.decode()
    for name in ("Snowflake", "PostgreSQL", "MySQL", "Salesloft", "Gong", "LinkedIn Ads", "Salesforce", "HubSpot",
                 "HTTP API"):
        assert name in page
    partial = console.get("/connections/new?q=link", HTTP_HX_REQUEST="true").content.decode()
    assert "LinkedIn Ads" in partial and "Snowflake" not in partial and "<html" not in partial


def test_form_is_generated_from_the_schema(console):
    page = console.get("/connections/new/salesforce").content.decode()
    assert 'name="domain"' in page
    assert '<select name="connect_mode"' in page and 'value="clientcredentials"' in page
    assert 'type="password" name="client_secret"' in page
    assert 'name="enforce_api_limits"' in page and 'type="checkbox"' in page
    assert 'name="instance_url_override"' not in page and 'name="oauth_refresh_token"' not in page


def test_create_a_warehouse_connection(console, warehouse):
    response = console.post("/connections/new/snowflake", {
        "name": "Demo warehouse", "account": "uc193736182", "username": "user", "password": PASSWORD,
        "dbname": "database"})
    connection = Connection.objects.get(name="Demo warehouse")
    assert response.status_code == 302 and response["Location"] == f"/connections/{connection.pk}"
    assert connection.status == ConnectionStatus.HEALTHY
    page = console.get(response["Location"]).content.decode()
    assert "Healthy" in page and "stored, encrypted" in page and PASSWORD not in page


def test_field_errors_are_shown_on_the_form(console):
    page = console.post("/connections/new/salesloft", {"name": "S", "auth_method": "api_key"})
    assert page.status_code == 200
    assert "is required when auth_method is api_key" in page.content.decode()
    assert not Connection.objects.exists()


def test_oauth_connection_waits_for_authorization(console, on_sandbox):
    response = console.post("/connections/new/salesloft", {"name": "S", "auth_method": "oauth"})
    page = console.get(response["Location"]).content.decode()
    assert "Waiting for authorization" in page
    assert "Connect to Salesloft" in page and "data-oauth-popup" in page


def test_edit_keeps_secrets_and_never_shows_them(console, snowflake):
    page = console.get(f"/connections/{snowflake.pk}/edit").content.decode()
    assert PASSWORD not in page and "Leave empty to keep it" in page
    response = console.post(f"/connections/{snowflake.pk}/edit", {
        "name": "Renamed", "account": "uc193736182", "username": "user", "password": "", "dbname": "database",
        "warehouse": "COMPUTE_WH"})
    assert response.status_code == 302
    snowflake.refresh_from_db()
    assert snowflake.name == "Renamed" and snowflake.configuration["warehouse"] == "COMPUTE_WH"
    assert snowflake.secrets["password"] == PASSWORD


def test_test_button_returns_the_status_partial(console, snowflake, settings):
    settings.SNOWFLAKE_ENDPOINT = "http://127.0.0.1:9"
    settings.EGRESS_ALLOW = [*settings.EGRESS_ALLOW, "127.0.0.1:9"]  # closed, yet allowed
    partial = console.post(f"/connections/{snowflake.pk}/test", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="connection-status"' in partial and "Unhealthy" in partial and "Could not connect" in partial
    assert PASSWORD not in partial


def test_delete_asks_then_deletes(console, snowflake):
    page = console.get(f"/connections/{snowflake.pk}/delete").content.decode()
    assert "cannot be undone" in page
    response = console.post(f"/connections/{snowflake.pk}/delete")
    assert response.status_code == 302
    assert not Connection.objects.filter(pk=snowflake.pk).exists()


def test_delete_refuses_while_in_use(console, snowflake, organization):
    from console.datamodels.models import DataModel

    DataModel.objects.create(organization=organization, connection=snowflake, name="Active Users",
                             configuration={"query": "select 1"})
    page = console.get(f"/connections/{snowflake.pk}/delete").content.decode()
    assert "cannot be deleted" in page and "Active Users" in page
    assert console.post(f"/connections/{snowflake.pk}/delete").status_code == 409
    assert Connection.objects.filter(pk=snowflake.pk).exists()


def test_other_organizations_pages_are_404(snowflake):
    other = Client()
    other.force_login(sign_up("other@example.com", "correct-horse-battery", "Globex"))
    for suffix in ("", "/edit", "/delete", "/status", "/parameters", "/authorize"):
        assert other.get(f"/connections/{snowflake.pk}{suffix}").status_code == 404
    assert other.post(f"/connections/{snowflake.pk}/test").status_code == 404
    assert other.post(f"/connections/{snowflake.pk}/delete").status_code == 404


def test_demo_seed_creates_the_warehouse_connections(organization, warehouse, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.FILE_CONNECTIONS_DIR = str(tmp_path / demo.DEMO_FILES)
    demo.seed(organization)
    demo.seed(organization)  # idempotent
    connections = {c.name: c for c in Connection.objects.filter(organization=organization)}
    snowflake = connections["Snowflake Connection"]
    assert snowflake.configuration == {"account": "uc193736182", "username": "user", "dbname": "database"}
    assert snowflake.secrets == {"password": "secret"}
    assert services.check_connection(snowflake).status == ConnectionStatus.HEALTHY
    sqlite = connections["Demo SQLite"]
    assert sqlite.configuration == {"path": demo.SQLITE_FILE}
    assert (tmp_path / demo.DEMO_FILES / demo.SQLITE_FILE).is_file()
    assert services.check_connection(sqlite).status == ConnectionStatus.HEALTHY
