"""The official SDK (polytomic==25.9.10) against a live server: connection CRUD, types, test."""

import pytest
from polytomic import Polytomic
from polytomic.errors import BadRequestError, NotFoundError, UnprocessableEntityError

from console.connections.models import Connection

pytestmark = pytest.mark.django_db(transaction=True)

SNOWFLAKE = {"account": "uc193736182", "username": "user", "password": "secret", "dbname": "database"}


@pytest.fixture
def client(live_server, api_key):
    return Polytomic(base_url=live_server.url, token=api_key, version="2025-09-18", max_retries=0)


def test_sdk_creates_lists_gets_updates_and_deletes(client, warehouse, on_sandbox):
    created = client.connections.create(name="Snowflake Connection", type="snowflake", configuration=SNOWFLAKE,
                                        idempotency_key="sdk-connection-0001").data
    assert created.status == "healthy" and created.type.id == "snowflake" and created.auth_url is None
    assert created.configuration == {"account": "uc193736182", "username": "user", "dbname": "database"}

    assert [c.id for c in client.connections.list().data] == [created.id]
    fetched = client.connections.get(created.id).data
    assert fetched.name == "Snowflake Connection" and fetched.created_at is not None

    updated = client.connections.update(created.id, name="Warehouse",
                                        configuration={**fetched.configuration, "warehouse": "COMPUTE_WH"}).data
    assert updated.name == "Warehouse" and updated.configuration["warehouse"] == "COMPUTE_WH"
    assert Connection.objects.get(pk=created.id).secrets == {"password": "secret"}

    salesloft = client.connections.create(name="My Salesloft Connection", type="salesloft",
                                          configuration={"auth_method": "oauth"}).data
    assert salesloft.status == "pending_auth" and salesloft.auth_url.startswith(on_sandbox.url)

    client.connections.test_connection(type="snowflake", configuration=SNOWFLAKE)
    with pytest.raises(BadRequestError):
        client.connections.test_connection(type="snowflake", configuration={"account": "a"})

    client.connections.delete(created.id)
    with pytest.raises(NotFoundError):
        client.connections.get(created.id)


def test_sdk_reads_connection_types_and_errors(client):
    types = client.connections.get_types().data
    assert {"snowflake", "salesloft", "gong", "linkedinads"} <= {t.id for t in types}
    schema = client.connections.get_connection_type_schema("snowflake")
    assert schema is not None
    with pytest.raises(BadRequestError) as raised:
        client.connections.create(name="x", type="snowflake", configuration={"username": "u"})
    assert raised.value.body.metadata["errors"][0]["field"] == "configuration.account"
    with pytest.raises(NotFoundError):
        client.connections.get("00000000-0000-0000-0000-000000000000")


def test_sdk_delete_in_use_is_422(client, warehouse, organization):
    from console.datamodels.models import DataModel

    created = client.connections.create(name="W", type="snowflake", configuration=SNOWFLAKE).data
    DataModel.objects.create(organization=organization, connection_id=created.id, name="Active Users",
                             configuration={"query": "select 1"})
    with pytest.raises(UnprocessableEntityError):
        client.connections.delete(created.id, force=True)
