"""Bulk runs over time: schedules dispatched once, stale runs swept and resumed,
cancel mid-run, the run's events. A source in memory, the demo's SQLite warehouse."""

from datetime import timedelta

import pytest
from django.utils import timezone

from console.bulk import runs, services
from console.bulk.models import BulkExecution, BulkSync
from console.engine.models import Event
from console.engine.models import ExecutionStatus
from integrations.base import STRING
from integrations.warehouses.destinations import SQLiteDestination


@pytest.fixture
def make_sync(organization, fake_source, salesforce, sqlite_destination):
    fake_source.records["Contact"] = [
        {"Id": f"c{n}", "Email": f"p{n}@acme.example", "SystemModstamp": f"2026-01-{n:02d}T00:00:00Z"}
        for n in range(1, 7)]

    def make(**changes):
        body = {"name": "Contacts", "source_connection_id": str(salesforce.pk),
                "destination_connection_id": str(sqlite_destination.pk),
                "destination_configuration": {"schema": "sf"}, "default_schedule": {"frequency": "manual"},
                "schemas": ["Contact"], **changes}
        return services.create_bulk_sync(organization, body)

    return make


def test_a_due_sync_is_started_once_and_planned_again(make_sync):
    sync = make_sync(default_schedule={"frequency": "hourly", "minute": 0})
    paused = make_sync(name="Paused", default_schedule={"frequency": "hourly", "minute": 0}, active=False)
    later = sync.next_run_at + timedelta(seconds=1)
    assert runs.bulk_runs.dispatch_due(now=later) == 1
    assert runs.bulk_runs.dispatch_due(now=later) == 0, "next_run_at moved on"
    execution = BulkExecution.objects.get(sync=sync)
    assert execution.trigger == "schedule" and execution.status == ExecutionStatus.QUEUED
    assert BulkSync.objects.get(pk=sync.pk).next_run_at > later
    assert not BulkExecution.objects.filter(sync=paused).exists()


def test_a_manual_sync_is_never_dispatched(make_sync):
    make_sync()
    assert runs.bulk_runs.dispatch_due(now=timezone.now() + timedelta(days=30)) == 0


def test_a_run_whose_worker_stopped_is_requeued_and_resumes_from_the_cursors(make_sync, fake_source):
    sync = make_sync()
    execution = runs.start_execution(sync)
    BulkExecution.objects.filter(pk=execution.pk).update(
        status=ExecutionStatus.RUNNING, attempt=1, heartbeat_at=timezone.now() - timedelta(minutes=10))
    assert runs.bulk_runs.sweep()["requeued"] == 1
    assert BulkExecution.objects.get(pk=execution.pk).status == ExecutionStatus.QUEUED
    runs.bulk_runs.run(execution.pk)
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.COMPLETED and execution.attempt == 2
    assert execution.record_count == 6


def test_the_sweeper_gives_up_after_the_last_attempt(make_sync):
    execution = runs.start_execution(make_sync())
    BulkExecution.objects.filter(pk=execution.pk).update(
        status=ExecutionStatus.RUNNING, attempt=3, heartbeat_at=timezone.now() - timedelta(minutes=10))
    assert runs.bulk_runs.sweep()["failed"] == 1
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.FAILED and "stopped responding 3 times" in execution.status_message


def test_a_run_canceled_mid_way_stops_after_the_batch_in_flight(make_sync, fake_source, monkeypatch):
    monkeypatch.setattr(SQLiteDestination, "batch_size", 2)
    sync = make_sync()
    execution = runs.start_execution(sync)

    def cancel():
        runs.bulk_runs.cancel(BulkExecution.objects.get(pk=execution.pk))

    fake_source.after_batch = cancel
    runs.bulk_runs.run(execution.pk)
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.CANCELED
    assert execution.record_count == 4  # the batch being read when the cancel came is written; no more
    assert execution.schemas.get().status == ExecutionStatus.CANCELED
    assert BulkSync.objects.get(pk=sync.pk).cursors == {}, "an object cut short keeps its old cursor"


def test_runs_tell_their_events(make_sync):
    sync = make_sync()
    runs.bulk_runs.run(runs.start_execution(sync).pk)
    assert list(Event.objects.filter(organization_id=sync.organization_id).order_by("created_at")
                .values_list("type", flat=True)) == ["bulk_sync.running", "bulk_sync.completed"]


@pytest.mark.parametrize("rule, added", [("none", set()), ("all", {"Lead", "Task"}),
                                         ("onlyIncremental", {"Lead"}), ("onlyNonIncremental", {"Task"})])
def test_new_source_objects_are_added_as_the_sync_says(make_sync, fake_source, rule, added):
    sync = make_sync(automatically_add_new_objects=rule, schemas=["Contact", {"id": "Account", "enabled": False}])
    fake_source.fields_of["Lead"] = [("Id", STRING), ("SystemModstamp", STRING)]
    fake_source.fields_of["Task"] = [("Id", STRING), ("Subject", STRING)]  # no tracking field
    fake_source.records.update(Lead=[{"Id": "l1", "SystemModstamp": "2026-01-01T00:00:00Z"}], Task=[])
    execution = runs.start_execution(sync)
    runs.bulk_runs.run(execution.pk)
    sync.refresh_from_db()
    assert {s["id"] for s in sync.schemas} == {"Contact", "Account"} | added
    assert not next(s for s in sync.schemas if s["id"] == "Account")["enabled"], "a deselected object stays so"
    assert set(execution.schemas.values_list("schema", flat=True)) == {"Contact"} | added
