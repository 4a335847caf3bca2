"""The SDK's `schemas` group through strict_sdk against a live server: refreshed by the e2e
worker from the demo warehouse (tables) and the sandbox's HubSpot (objects)."""

import time

import pytest
from polytomic import SchemaPrimaryKeyOverrideInput, UserFieldRequest
from polytomic.errors import BadRequestError, NotFoundError

from console.schemas.models import ConnectionSchema
from tests.sandbox.connections import sandbox_connection
from tests.sdk_strict import strict_sdk

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def client(live_server, api_key):
    return strict_sdk(live_server.url, api_key)


def refreshed(client, connection_id, timeout=60.0):
    before = client.schemas.get_status(connection_id).data.last_refresh_finished
    client.schemas.refresh(connection_id)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.schemas.get_status(connection_id).data
        if status.cache_status != "refreshing" and status.last_refresh_finished != before:
            return status
        time.sleep(0.2)
    raise AssertionError(f"the refresh did not end: {status}")


def test_warehouse_tables_refresh_and_are_adjusted(client, e2e, connection_of, warehouse):
    snowflake = connection_of("snowflake")
    table = warehouse.copy("users", rows=3)
    assert client.schemas.get_status(str(snowflake.pk)).data.cache_status == "never"

    assert refreshed(client, str(snowflake.pk)).cache_status == "fresh"
    stored = ConnectionSchema.objects.get(connection=snowflake, schema_id__iendswith=f".{table}")
    schema = client.schemas.get(str(snowflake.pk), stored.schema_id).data
    columns = [row[0] for row in warehouse.execute(f"SELECT column_name FROM information_schema.columns "
                                                   f"WHERE table_name = '{table.upper()}' ORDER BY ordinal_position")]
    assert [f.id for f in schema.fields] == columns
    assert all(not f.user_managed and not f.is_primary_key for f in schema.fields)

    records = client.schemas.get_records(str(snowflake.pk), stored.schema_id).data
    ids = sorted(row[0] for row in warehouse.execute(f"SELECT {columns[0]} FROM {table}"))
    assert sorted(record[columns[0]] for record in records) == ids

    client.schemas.upsert_field(str(snowflake.pk), stored.schema_id, fields=[
        UserFieldRequest(field_id="full_name", label="Full name", type="string", path="$.name")])
    patched = client.schemas.patch_field(str(snowflake.pk), stored.schema_id, columns[0], label="User id").data
    assert patched.name == "User id" and patched.user_managed and patched.id == columns[0]
    client.schemas.set_primary_keys(str(snowflake.pk), stored.schema_id, fields=[
        SchemaPrimaryKeyOverrideInput(field_id=columns[0], is_primary_key=True)])
    fields = {f.id: f for f in client.schemas.get(str(snowflake.pk), stored.schema_id).data.fields}
    assert fields["full_name"].name == "Full name" and fields["full_name"].path == "$.name"
    assert fields[columns[0]].is_primary_key and fields[columns[0]].primary_key_override is True
    assert not fields[columns[1]].is_primary_key and fields[columns[1]].primary_key_override is None

    refreshed(client, str(snowflake.pk))  # a refresh keeps what users added
    fields = {f.id: f for f in client.schemas.get(str(snowflake.pk), stored.schema_id).data.fields}
    assert fields["full_name"].user_managed and fields[columns[0]].is_primary_key

    client.schemas.reset_primary_keys(str(snowflake.pk), stored.schema_id)
    client.schemas.delete_field(str(snowflake.pk), stored.schema_id, "full_name")
    fields = {f.id: f for f in client.schemas.get(str(snowflake.pk), stored.schema_id).data.fields}
    assert "full_name" not in fields and not fields[columns[0]].is_primary_key


def test_saas_objects_refresh_from_the_sandbox(client, e2e, organization, sandbox):
    hubspot = sandbox_connection(organization, "hubspot", sandbox=sandbox)
    refreshed(client, str(hubspot.pk))
    assert {"contacts", "companies"} <= set(
        ConnectionSchema.objects.filter(connection=hubspot).values_list("schema_id", flat=True))
    contacts = client.schemas.get(str(hubspot.pk), "contacts").data
    fields = {f.id: f for f in contacts.fields}
    assert "email" in fields and fields["id"].is_primary_key and fields["id"].source_primary_key

    records = client.schemas.get_records(str(hubspot.pk), "contacts").data
    emails = {doc["properties"]["email"] for doc in e2e.docs("hubspot", "contacts")}
    assert records and {record["email"] for record in records} <= emails


def test_bad_input_is_refused_and_changes_nothing(client, e2e, connection_of, warehouse, api_key, live_server):
    snowflake = connection_of("snowflake")
    warehouse.copy("users", rows=1)
    refreshed(client, str(snowflake.pk))
    stored = ConnectionSchema.objects.filter(connection=snowflake).first()
    before = (stored.user_fields, stored.primary_keys)
    connection_id, schema_id = str(snowflake.pk), stored.schema_id

    with pytest.raises(NotFoundError) as raised:
        client.schemas.get(connection_id, "no_such.table")
    assert raised.value.body.key == "not_found"
    with pytest.raises(NotFoundError):
        client.schemas.get_records(connection_id, "no_such.table")
    with pytest.raises(NotFoundError):
        client.schemas.patch_field(connection_id, schema_id, "no_such_field", label="x")
    with pytest.raises(NotFoundError):
        client.schemas.delete_field(connection_id, schema_id, "no_such_field")
    with pytest.raises(BadRequestError) as raised:
        client.schemas.delete_field(connection_id, schema_id, stored.detected[0]["id"])
    assert raised.value.body.metadata["errors"][0]["field"] == "field_id"
    with pytest.raises(BadRequestError) as raised:
        client.schemas.set_primary_keys(connection_id, schema_id, fields=[
            SchemaPrimaryKeyOverrideInput(field_id=stored.detected[0]["id"], is_primary_key=True),
            SchemaPrimaryKeyOverrideInput(field_id="no_such_field", is_primary_key=True)])
    assert raised.value.body.metadata["errors"][0]["field"] == "fields.1.field_id"
    with pytest.raises(BadRequestError) as raised:
        client.schemas.upsert_field(connection_id, schema_id, fields=[
            UserFieldRequest(field_id="ok", label="Ok", type="string"),
            UserFieldRequest(field_id="bad", label="Bad", type="money")])
    assert raised.value.body.metadata["errors"][0]["field"] == "fields.1.type"
    with pytest.raises(BadRequestError):
        client.schemas.patch_field(connection_id, schema_id, stored.detected[0]["id"], type="money")
    with pytest.raises(NotFoundError):
        client.schemas.get_status("00000000-0000-0000-0000-000000000000")

    stored.refresh_from_db()
    assert (stored.user_fields, stored.primary_keys) == before
