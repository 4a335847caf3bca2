"""The official SDK (polytomic==25.9.10) as a strict client of bulk syncs: a source in
memory, the demo's SQLite warehouse, the console on a live server."""

import pytest
from polytomic import BulkSyncDefaultScheduleRequest, Polytomic
from polytomic.errors import BadRequestError, NotFoundError

from console.bulk import runs

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def client(live_server, api_key):
    return Polytomic(base_url=live_server.url, token=api_key, version="2025-09-18", max_retries=0)


def test_sdk_manages_and_runs_a_bulk_sync(client, fake_source, salesforce, sqlite_destination, monkeypatch):
    # runs go to a queue no worker reads: this test runs them itself, on the source in memory
    monkeypatch.setenv("ENGINE_QUEUE", "bulk-sdk-test-no-worker")
    fake_source.records["Contact"] = [
        {"Id": "c1", "Email": "ada@acme.example", "SystemModstamp": "2026-01-01T00:00:00Z"},
        {"Id": "c2", "Email": "grace@acme.example", "SystemModstamp": "2026-01-02T00:00:00Z"}]
    created = client.bulk_sync.create(
        name="Salesforce to warehouse", source_connection_id=str(salesforce.pk),
        destination_connection_id=str(sqlite_destination.pk), destination_configuration={"schema": "sf"},
        default_schedule=BulkSyncDefaultScheduleRequest(frequency="daily", hour="4", minute="0"),
        schemas=["Contact", {"id": "Account", "enabled": False}], mode="replicate",
        idempotency_key="bulk-create-0001",
    ).data
    assert created.name == "Salesforce to warehouse" and created.default_schedule.frequency == "daily"
    assert client.bulk_sync.get(created.id).data.destination_configuration["schema"] == "sf"
    assert [s.id for s in client.bulk_sync.list().data] == [created.id]

    schemas = {s.id: s for s in client.bulk_sync.schemas.list(created.id).data}
    assert schemas["Contact"].enabled and not schemas["Account"].enabled
    contact = client.bulk_sync.schemas.get(created.id, "Contact").data
    assert contact.output_name == "contact" and "Email" in [f.id for f in contact.fields]

    started = client.bulk_sync.start(created.id, fetch_mode="full").data
    assert started.status == "scheduled"
    runs.bulk_runs.run(started.id)  # what a worker does
    done = client.bulk_sync.executions.get(created.id, started.id).data
    assert done.status == "completed" and done.record_count == 2
    assert done.schemas[0].schema_ == "Contact" and done.schemas[0].output_name == "sf_contact"
    assert [e.id for e in client.bulk_sync.executions.list(created.id, limit=10).data] == [started.id]
    status = client.bulk_sync.get_status(created.id).data
    assert status.last_execution.id == started.id and status.current_execution is None
    every = client.bulk_sync.executions.list_status(all_=True).data
    assert every[0].sync_id == created.id and every[0].schemas[0].record_count == 2

    assert client.bulk_sync.activate(created.id, active=False).data.active is False
    with pytest.raises(BadRequestError):
        client.bulk_sync.start(created.id, resync_mode="wipe")
    client.bulk_sync.delete(created.id)
    with pytest.raises(NotFoundError):
        client.bulk_sync.get(created.id)
