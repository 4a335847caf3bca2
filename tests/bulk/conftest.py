"""Bulk-sync fixtures: connections on every side, a fake source, the real warehouses.

The warehouses come from the fixtures of other suites: `postgres_url` (a scratch
PostgreSQL database) and `warehouse` / `fakesnow_endpoint` (fakesnow on loopback).
"""

import json
import time

import pytest

from console.bulk import runs, services
from console.connections.models import Connection
from integrations.demo.pgcluster import source_config
from tests.connections.conftest import fakesnow_endpoint, warehouse  # noqa: F401  (fixtures)
from tests.sandbox.conftest import sandbox, sandbox_server  # noqa: F401  (fixtures)
from tests.warehouses.conftest import postgres_url  # noqa: F401  (fixture)

from .fake_source import FakeSession, FakeSource

SNOWFLAKE = {"account": "uc193736182", "username": "user", "dbname": "database"}


@pytest.fixture
def fake_source(monkeypatch):
    """The Salesforce source replaced by one in memory (no HTTP)."""
    fake = FakeSource()
    monkeypatch.setitem(services.SOURCES, "salesforce", fake)
    monkeypatch.setattr(services, "open_session", lambda connection: FakeSession())
    monkeypatch.setattr(runs, "run_session", lambda connection, *_: FakeSession())
    return fake


@pytest.fixture
def connect(organization):
    """connect(type_id, configuration, secrets) -> a Connection of the test organization."""

    def make(type_id, configuration=None, secrets=None, name=None, org=None):
        return Connection.objects.create(organization=org or organization, name=name or f"My {type_id}",
                                         type=type_id, configuration=configuration or {},
                                         secrets=secrets or {})

    return make


def salesforce_secrets() -> dict:
    # The sandbox takes its static key as a bearer token; the expiry keeps it from being renewed.
    return {"oauth_access_token": "sandbox-api-key", "oauth_refresh_token": "not-used",
            "oauth_token_expiry": time.time() + 3600}


@pytest.fixture
def salesforce(connect):
    return connect("salesforce", {"domain": "login.salesforce.com", "connect_mode": "browser"},
                   salesforce_secrets(), name="Salesforce")


@pytest.fixture
def hubspot(connect):
    return connect("hubspot", {"auth_method": "private_app"}, {"private_app_token": "sandbox-api-key"},
                   name="HubSpot")


@pytest.fixture
def sqlite_destination(connect, tmp_path, settings):
    settings.FILE_CONNECTIONS_DIR = str(tmp_path)
    return connect("sqlite", {"path": "warehouse.sqlite3"}, name="Demo warehouse")


@pytest.fixture
def postgres_destination(connect, postgres_url):  # noqa: F811
    config = source_config(postgres_url)
    password = config.pop("password")
    return connect("postgresql", config, {"password": password}, name="PostgreSQL")


@pytest.fixture
def snowflake_destination(connect, warehouse):  # noqa: F811
    return connect("snowflake", SNOWFLAKE, {"password": "secret"}, name="Snowflake")


class Api:
    """JSON calls on the test client."""

    def __init__(self, client):
        self.client = client

    def call(self, method, path, body=None):
        send = getattr(self.client, method)
        if body is None:
            return send(path)
        return send(path, json.dumps(body), content_type="application/json")

    def get(self, path):
        return self.call("get", path)

    def post(self, path, body=None):
        return self.call("post", path, body if body is not None else {})

    def put(self, path, body):
        return self.call("put", path, body)

    def delete(self, path):
        return self.call("delete", path)


@pytest.fixture
def bulk_api(api):
    return Api(api)
