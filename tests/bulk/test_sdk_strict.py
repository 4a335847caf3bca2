"""Every method of the SDK's bulk_sync group through strict_sdk, on a live server: the sandbox's
HubSpot as the source, the demo warehouse's Snowflake protocol (fakesnow) as the destination.
Runs are sent to a queue no worker reads and run here, as a worker would."""

import pytest
from polytomic import BulkSchema, BulkSyncDefaultScheduleRequest, BulkSyncScheduleApi
from polytomic.core.api_error import ApiError as SdkApiError
from polytomic.errors import BadRequestError, NotFoundError

from console.bulk import runs
from console.bulk.models import BulkSchedule, BulkSync
from tests.sdk_strict import strict_sdk

from .test_runs import Snowflake, hubspot_contacts, inspector, new_schema  # noqa: F401  (the inspector fixture)

pytestmark = pytest.mark.django_db(transaction=True)

OURS = ["$.data.notify_after_failures"]  # error handling's failures in a row, which the issue asks for


@pytest.fixture
def client(live_server, api_key, settings, monkeypatch):
    monkeypatch.setenv("ENGINE_QUEUE", "bulk-strict-sdk-no-worker")
    settings.PUBLIC_URL = live_server.url
    return strict_sdk(live_server.url, api_key, allow=OURS)


def run(client, sync_id, **options):
    started = client.bulk_sync.start(sync_id, **options).data
    runs.bulk_runs.run(started.id)
    return client.bulk_sync.executions.get(sync_id, started.id).data


def refused(call, error=BadRequestError) -> dict:
    with pytest.raises(error) as caught:
        call()
    body = caught.value.body
    body = body if isinstance(body, dict) else body.dict()
    assert {"status", "message", "key", "metadata"} <= set(body)
    return body


def test_every_bulk_sync_method_through_the_strict_sdk(client, inspector, hubspot, snowflake_destination,
                                                       fakesnow_endpoint):
    source_id, destination_id = str(hubspot.pk), str(snowflake_destination.pk)
    offer = client.bulk_sync.get_source(source_id, include_fields=True).data
    assert {"contacts", "companies"} <= {s.id for s in offer.schemas}
    assert "email" in {f.id for s in offer.schemas if s.id == "contacts" for f in s.fields}
    assert [m.id for m in client.bulk_sync.get_destination(destination_id).data.modes] == [
        "replicate", "append", "snapshot"]

    schema = new_schema()
    created = client.bulk_sync.create(
        name="HubSpot to warehouse", source_connection_id=source_id, destination_connection_id=destination_id,
        destination_configuration={"schema": schema}, schemas=["contacts"],
        default_schedule=BulkSyncDefaultScheduleRequest(frequency="hourly", minute="5")).data
    sync_id = created.id
    assert client.bulk_sync.get(sync_id).data.default_schedule.frequency == "hourly"
    assert [s.id for s in client.bulk_sync.list().data] == [sync_id]
    updated = client.bulk_sync.update(
        sync_id, name="HubSpot copy", source_connection_id=source_id, destination_connection_id=destination_id,
        destination_configuration={"schema": schema}, schemas=["contacts", "companies"],
        default_schedule=BulkSyncDefaultScheduleRequest(frequency="hourly", minute="5")).data
    assert updated.name == "HubSpot copy"

    # schemas: list, get, a PATCH that changes what the next run copies, a PUT, and the refusals
    assert {s.id: s.enabled for s in client.bulk_sync.schemas.list(sync_id).data}["companies"] is True
    contacts = client.bulk_sync.schemas.get(sync_id, "contacts").data
    assert "email" in {f.id for f in contacts.fields}
    everyone = hubspot_contacts(inspector)
    first = run(client, sync_id, fetch_mode="full")
    assert first.status == "completed"
    warehouse = Snowflake(fakesnow_endpoint, schema)
    try:
        assert set(warehouse.rows("CONTACTS")) == set(everyone)
        kept = sorted(d["properties"]["email"] for d in everyone.values())[0]
        patched = client.bulk_sync.schemas.patch(sync_id, schemas=[BulkSchema(
            id="contacts", filters=[{"field_id": "email", "function": "Equality", "value": kept}])]).data
        assert patched[0].filters[0].value == kept
        client.bulk_sync.schemas.update(sync_id, "companies", enabled=False)
        assert BulkSync.objects.get(pk=sync_id).schemas[1]["enabled"] is False
        warehouse.source.connection().cursor().execute(f"DELETE FROM {schema.upper()}.CONTACTS")
        second = run(client, sync_id)
        assert [s.schema_ for s in second.schemas] == ["contacts"]
        assert {email for email, _ in warehouse.rows("CONTACTS").values()} == {kept}
    finally:
        warehouse.close()
    before = BulkSync.objects.get(pk=sync_id).schemas
    refused(lambda: client.bulk_sync.schemas.patch(sync_id, schemas=[BulkSchema(
        id="contacts", fields=[{"id": "no_such_field", "enabled": True}])]))
    refused(lambda: client.bulk_sync.schemas.get(sync_id, "no_such_object"), NotFoundError)
    refused(lambda: client.bulk_sync.schemas.update(sync_id, "no_such_object", enabled=True), NotFoundError)
    assert BulkSync.objects.get(pk=sync_id).schemas == before
    assert client.bulk_sync.schemas.cancel(sync_id, "contacts").data.message == (
        "No copy of contacts is running or waiting.")

    # executions and their logs
    executions = client.bulk_sync.executions.list(sync_id, limit=10).data
    assert [e.id for e in executions] == [second.id, first.id]
    assert client.bulk_sync.executions.get(sync_id, first.id).data.record_count == len(everyone) + len(
        inspector.docs("hubspot", "companies"))
    status = client.bulk_sync.get_status(sync_id).data
    assert status.last_execution.id == second.id and status.next_execution_time is not None
    listed = client.bulk_sync.executions.list_status(sync_id=sync_id).data
    assert listed[0].next_execution_time == status.next_execution_time
    lines = client.bulk_sync.executions.get_console_logs(sync_id, second.id).data.entries
    assert lines[-1].message.startswith("Ended completed")
    per_schema = client.bulk_sync.executions.get_schema_console_logs(sync_id, second.id, "contacts").data.entries
    assert per_schema[-1].message == "contacts: 1 records written (0 deleted, 0 skipped)."
    ingest = client.bulk_sync.executions.get_ingest_console_logs(source_id, sync_id=sync_id).data.entries
    assert ingest[-1].message == lines[-1].message
    urls = client.bulk_sync.executions.get_logs(sync_id, second.id).data
    assert urls.ur_ls[0].startswith(client._target._client_wrapper.get_base_url()) and urls.expires
    assert client.bulk_sync.executions.export_logs(sync_id, second.id).data.url.endswith("/logs.zip")
    with pytest.raises(SdkApiError) as finished:  # the SDK declares no 400 here, so it raises its base error
        client.bulk_sync.executions.cancel(sync_id, second.id)
    assert finished.value.status_code == 400 and finished.value.body["key"] == "not_cancelable"
    queued = client.bulk_sync.start(sync_id).data
    assert client.bulk_sync.executions.cancel(sync_id, queued.id).data.message == "Execution canceled."
    assert client.bulk_sync.cancel(sync_id).data.message == "No execution is running."

    # error handling
    assert client.bulk_sync.error_handling.get(sync_id).data.subscribers == []
    saved = client.bulk_sync.error_handling.update(sync_id, subscribers=["data@example.com"],
                                                   ingestion_failure_threshold=600).data
    assert (saved.subscribers, saved.ingestion_failure_threshold) == (["data@example.com"], 600)
    refused(lambda: client.bulk_sync.error_handling.update(sync_id, subscribers=["nobody"]))
    assert client.bulk_sync.error_handling.get(sync_id).data.subscribers == ["data@example.com"]

    # schedules: an hourly incremental (the default) and a weekly full resync
    weekly = client.bulk_sync.schedules.create(sync_id, schedule=BulkSyncScheduleApi(
        frequency="weekly", day_of_week="0", hour="3", minute="30", syncMode="resync")).data
    assert (weekly.frequency, weekly.sync_mode, weekly.is_default) == ("weekly", "resync", False)
    listed_schedules = client.bulk_sync.schedules.list(sync_id).data
    assert [(s.frequency, s.is_default) for s in listed_schedules] == [("hourly", True), ("weekly", False)]
    schedule_id = client.bulk_sync.get(sync_id).data.additional_schedules[0].id
    assert client.bulk_sync.schedules.get(sync_id, schedule_id).data.day_of_week == "0"
    moved = client.bulk_sync.schedules.update(sync_id, schedule_id, schedule=BulkSyncScheduleApi(
        frequency="weekly", day_of_week="6", hour="3", minute="30", syncMode="resync")).data
    assert moved.day_of_week == "6"
    refused(lambda: client.bulk_sync.schedules.update(sync_id, schedule_id, schedule=BulkSyncScheduleApi(
        frequency="custom", minute="0", hour="0", day_of_month="31", month="2")))
    assert BulkSchedule.objects.get().schedule["day_of_week"] == "6"
    client.bulk_sync.schedules.delete(sync_id, schedule_id)
    refused(lambda: client.bulk_sync.schedules.get(sync_id, schedule_id), NotFoundError)

    assert client.bulk_sync.activate(sync_id, active=False).data.active is False
    client.bulk_sync.delete(sync_id)
    refused(lambda: client.bulk_sync.get(sync_id), NotFoundError)
