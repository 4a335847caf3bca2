"""Several schedules per bulk sync (/api/bulk/syncs/{id}/schedules), each fired by the beat."""

from datetime import datetime, timedelta, timezone

import pytest

from console.bulk import runs
from console.bulk.models import BulkExecution, BulkSchedule

from .test_api import body, created  # noqa: F401  (the body fixture)

pytestmark = pytest.mark.django_db

WEEKLY_RESYNC = {"frequency": "weekly", "dayOfWeek": "0", "hour": "3", "minute": "30", "syncMode": "resync"}


@pytest.fixture
def hourly(bulk_api, body, monkeypatch):  # noqa: F811
    monkeypatch.setenv("ENGINE_QUEUE", "bulk-schedules-no-worker")
    return created(bulk_api, body(default_schedule={"frequency": "hourly", "minute": "15"}))


def schedules_path(sync) -> str:
    return f"/api/bulk/syncs/{sync['id']}/schedules"


def test_schedules_are_listed_added_read_replaced_and_deleted(bulk_api, hourly):
    added = bulk_api.post(schedules_path(hourly), {"schedule": WEEKLY_RESYNC})
    assert added.status_code == 200, added.content
    assert added.json()["data"] | {"createdAt": None, "updatedAt": None} == {
        "frequency": "weekly", "dayOfWeek": "0", "hour": "3", "minute": "30", "dayOfMonth": None, "month": None,
        "isDefault": False, "syncId": hourly["id"], "syncMode": "resync", "selectiveMode": "none", "schemas": [],
        "createdAt": None, "updatedAt": None, "createdBy": "admin@example.com", "updatedBy": "admin@example.com"}
    listed = bulk_api.get(schedules_path(hourly)).json()["data"]
    assert [(s["frequency"], s["isDefault"], s["syncMode"]) for s in listed] == [
        ("hourly", True, "normal"), ("weekly", False, "resync")]
    (extra,) = bulk_api.get(f"/api/bulk/syncs/{hourly['id']}").json()["data"]["additional_schedules"]
    assert extra["resync_mode"] == "resync" and extra["day_of_week"] == "0"

    one = f"{schedules_path(hourly)}/{extra['id']}"
    assert bulk_api.get(one).json()["data"]["frequency"] == "weekly"
    replaced = bulk_api.put(one, {"schedule": {"frequency": "daily", "hour": "1", "minute": "0",
                                               "schemas": ["Contact"]}})
    assert replaced.json()["data"]["frequency"] == "daily" and replaced.json()["data"]["schemas"] == ["Contact"]
    assert replaced.json()["data"]["syncMode"] == "normal"
    assert bulk_api.delete(one).status_code == 200
    assert bulk_api.get(one).status_code == 404
    assert len(bulk_api.get(schedules_path(hourly)).json()["data"]) == 1


@pytest.mark.parametrize(("schedule", "field"), [
    ({"frequency": "custom", "minute": "0", "hour": "0", "dayOfMonth": "31", "month": "2"}, "schedule"),
    ({"frequency": "custom", "minute": "61", "hour": "*"}, "schedule.minute"),
    ({"frequency": "weekly", "hour": "3", "minute": "0"}, "schedule.dayOfWeek"),
    ({"frequency": "hourly", "minute": "0", "syncMode": "wipe"}, "schedule.syncMode"),
    ({"frequency": "hourly", "minute": "0", "schemas": ["Opportunity"]}, "schedule.schemas[0]"),
    ({"frequency": "runafter"}, "schedule.frequency"),
])
def test_an_impossible_schedule_is_a_400_naming_the_field_and_adds_nothing(bulk_api, hourly, schedule, field):
    refused = bulk_api.post(schedules_path(hourly), {"schedule": schedule})
    assert refused.status_code == 400, refused.content
    assert refused.json()["metadata"]["errors"][0]["field"] == field
    assert not BulkSchedule.objects.exists()


def test_an_unknown_schedule_or_another_organizations_sync_is_not_found(bulk_api, other_api, hourly):
    assert bulk_api.get(f"{schedules_path(hourly)}/00000000-0000-0000-0000-000000000000").status_code == 404
    assert other_api.get(schedules_path(hourly)).status_code == 404


def test_the_beat_fires_the_hourly_incremental_and_the_weekly_full_resync(bulk_api, hourly):
    bulk_api.post(schedules_path(hourly), {"schedule": WEEKLY_RESYNC})
    sunday = datetime(2027, 1, 3, 3, 30, tzinfo=timezone.utc)  # a Sunday, 03:30 UTC
    BulkSchedule.objects.update(next_run_at=sunday)
    status = bulk_api.get(f"/api/bulk/syncs/{hourly['id']}/status").json()["data"]
    assert status["next_execution_time"] == bulk_api.get("/api/bulk/syncs/status?all=true").json()[
        "data"][0]["nextExecutionTime"]

    assert runs.bulk_runs.dispatch_due(now=sunday) == 1, "the resync covers the hourly run due with it"
    resync = BulkExecution.objects.get()
    assert (resync.trigger, resync.resync_mode) == ("schedule", "resync")
    assert BulkSchedule.objects.get().next_run_at == sunday + timedelta(days=7)
    BulkExecution.objects.update(status="completed")

    later = sunday + timedelta(hours=1)  # the hourly run at 04:15 is due, the weekly one is not
    assert runs.bulk_runs.dispatch_due(now=later) == 1
    incremental = BulkExecution.objects.exclude(pk=resync.pk).get()
    assert (incremental.trigger, incremental.resync_mode, incremental.fetch_mode) == ("schedule", "", "incremental")


def test_a_paused_sync_plans_no_run_by_its_schedules(bulk_api, hourly):
    bulk_api.post(schedules_path(hourly), {"schedule": WEEKLY_RESYNC})
    bulk_api.post(f"/api/bulk/syncs/{hourly['id']}/activate", {"active": False})
    assert BulkSchedule.objects.get().next_run_at is None
    assert bulk_api.get(f"/api/bulk/syncs/{hourly['id']}/status").json()["data"]["next_execution_time"] is None
    assert runs.bulk_runs.dispatch_due(now=datetime(2030, 1, 1, tzinfo=timezone.utc)) == 0
