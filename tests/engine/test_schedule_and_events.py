import hashlib
import hmac
import json
import threading
from datetime import datetime, timedelta, timezone as dt_timezone
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail
from django.utils import timezone

from console.engine import notifications, schedule, services
from console.engine.models import Event, Execution, ExecutionStatus, NotificationSettings, Webhook
from console.syncs.models import Sync
from tests.engine.fakes import FakeTarget
from tests.engine.test_run import people

UTC = dt_timezone.utc
NOON = datetime(2026, 3, 4, 12, 7, tzinfo=UTC)  # a Wednesday


@pytest.mark.parametrize("given, expected", [
    ({"frequency": "hourly", "minute": "15"}, datetime(2026, 3, 4, 12, 15, tzinfo=UTC)),
    ({"frequency": "daily", "hour": "5", "minute": "0"}, datetime(2026, 3, 5, 5, 0, tzinfo=UTC)),
    ({"frequency": "weekly", "day_of_week": "1", "hour": "9", "minute": "30"}, datetime(2026, 3, 9, 9, 30, tzinfo=UTC)),
    ({"frequency": "custom", "minute": "*/10", "hour": "*"}, datetime(2026, 3, 4, 12, 10, tzinfo=UTC)),
    ({"frequency": "continuous"}, NOON),
    ({"frequency": "manual"}, None),
    ({"frequency": "runafter", "run_after": {"sync_ids": ["x"]}}, None),
])
def test_next_run_time(given, expected):
    assert schedule.next_run_time(given, NOON) == expected


def test_an_invalid_cron_schedule_is_explained():
    assert "not a valid schedule" in schedule.validate({"frequency": "custom", "minute": "61"})
    assert schedule.validate({"frequency": "daily", "hour": "5"}) is None


@pytest.mark.django_db
def test_due_syncs_start_once_and_move_on(make_sync):
    hourly = make_sync(schedule={"frequency": "hourly", "minute": "0"})
    manual = make_sync()
    now = timezone.now()
    assert services.sync_runs.dispatch_due(now) == 0
    hourly.refresh_from_db()
    assert hourly.next_run_at and hourly.next_run_at > now, "a new schedule is planned, not run at once"
    Sync.objects.filter(pk=hourly.pk).update(next_run_at=now - timedelta(seconds=1))
    assert services.sync_runs.dispatch_due(now) == 1
    assert services.sync_runs.dispatch_due(now) == 0, "a second beat does not start it again"
    execution = Execution.objects.get(sync=hourly)
    assert execution.trigger == "schedule" and execution.status == ExecutionStatus.QUEUED
    hourly.refresh_from_db()
    assert hourly.next_run_at > now
    assert not manual.executions.exists()


@pytest.mark.django_db
def test_a_due_sync_that_is_still_running_is_skipped(make_sync):
    sync = make_sync(schedule={"frequency": "hourly", "minute": "0"})
    services.start_execution(sync)
    Sync.objects.filter(pk=sync.pk).update(next_run_at=timezone.now() - timedelta(seconds=1))
    assert services.sync_runs.dispatch_due() == 0
    assert sync.executions.count() == 1


@pytest.mark.django_db
def test_a_continuous_sync_is_planned_again_when_its_run_ends(make_sync, run_in_process, settings):
    settings.ENGINE_CONTINUOUS_SECONDS = 0
    sync = make_sync(schedule={"frequency": "continuous"})
    assert services.sync_runs.dispatch_due() == 1, "a continuous sync starts at once"
    assert services.sync_runs.dispatch_due() == 0
    sync.refresh_from_db()
    assert sync.next_run_at is None, "not planned while it runs"
    services.sync_runs.cancel_sync(sync)
    sync.refresh_from_db()
    assert sync.next_run_at is not None and sync.next_run_at <= timezone.now()
    assert services.sync_runs.dispatch_due() == 1


@pytest.mark.django_db
def test_run_after_syncs_follow_the_sync_they_wait_for(make_sync, run_in_process):
    leader = make_sync()
    follower = make_sync(schedule={"frequency": "runafter", "run_after": {"sync_ids": [str(leader.pk)]}})
    picky = make_sync(schedule={"frequency": "runafter", "run_after": {"sync_ids": [str(leader.pk)]},
                                "run_after_success_only": True})
    run_in_process(leader, [{"email": "a@example.com", "first_name": "A"}], FakeTarget())  # fails: no 'plan'
    assert follower.executions.get().trigger == "runafter"
    assert not picky.executions.exists()
    services.sync_runs.cancel_sync(follower)
    run_in_process(leader, people(1), FakeTarget())
    assert follower.executions.count() == 2 and picky.executions.count() == 1


class Receiver(BaseHTTPRequestHandler):
    received = []
    answers = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((dict(self.headers), body))
        self.send_response(Receiver.answers.pop(0) if Receiver.answers else 200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver(settings):
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    settings.EGRESS_ALLOW = [f"127.0.0.1:{server.server_port}"]
    Receiver.received, Receiver.answers = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


@pytest.mark.django_db
def test_webhook_deliveries_are_signed_and_recorded(organization, receiver):
    Webhook.objects.create(organization=organization, endpoint=receiver, encrypted_secret="")
    webhook = Webhook.objects.get()
    webhook.secret = "topsecret"
    webhook.save()
    event = Event.objects.create(organization=organization, type="sync.completed", payload={"sync_id": "s"})
    Receiver.answers = [500]
    failed = notifications.deliver(event)
    assert not failed.success and failed.status_code == 500
    delivered = notifications.deliver(event)
    assert delivered.success
    headers, body = Receiver.received[-1]
    expected = hmac.new(b"topsecret", body, hashlib.sha256).hexdigest()
    assert headers["Polytomic-Signature"] == expected
    assert json.loads(body)["type"] == "sync.completed" and json.loads(body)["event"] == {"sync_id": "s"}


@pytest.mark.django_db
def test_the_delivery_task_retries_until_the_endpoint_answers(organization, receiver, monkeypatch):
    from console.engine import tasks

    webhook = Webhook(organization=organization, endpoint=receiver)
    webhook.secret = "k"
    webhook.save()
    event = Event.objects.create(organization=organization, type="sync.failed", payload={})
    Receiver.answers = [503, 502]
    retries = []

    def fake_retry(countdown):
        retries.append(countdown)
        return RuntimeError("retry")

    monkeypatch.setattr(tasks.deliver_event, "retry", fake_retry)
    for _ in range(3):
        try:
            tasks.deliver_event.run(str(event.pk))
        except RuntimeError:
            pass
    assert len(retries) == 2
    assert [d.success for d in event.deliveries.order_by("attempted_at")] == [False, False, True]


@pytest.mark.django_db
def test_a_failed_run_emails_the_subscribers(make_sync, run_in_process, organization):
    sync = make_sync()
    e = run_in_process(sync, [{"email": "a@example.com"}], FakeTarget())
    assert e.status == ExecutionStatus.FAILED
    assert notifications.send_failure_email(e) == 1
    assert mail.outbox[-1].to == ["admin@example.com"]
    assert "no column" in mail.outbox[-1].body and str(e.pk) in mail.outbox[-1].body
    NotificationSettings.objects.create(organization=organization, emails=["ops@example.com"])
    notifications.send_failure_email(e)
    assert mail.outbox[-1].to == ["ops@example.com"]


@pytest.mark.django_db
def test_run_events_carry_the_counts(make_sync, run_in_process):
    sync = make_sync()
    run_in_process(sync, people(2), FakeTarget(reject={"p1@example.com": "x"}))
    event = Event.objects.get(type="sync.completed_with_errors")
    assert event.payload == {
        "sync_id": str(sync.pk), "sync_name": sync.name, "execution_id": event.payload["execution_id"],
        "organization_id": str(sync.organization_id), "target_connection_id": str(sync.target_connection_id),
        "error": "1 records could not be written.", "number_of_errors": 1, "number_of_warnings": 0}
    run_in_process(sync, people(2), FakeTarget())
    done = Event.objects.get(type="sync.completed").payload
    assert (done["total_records"], done["inserted_records"], done["updated_records"], done["deleted_records"],
            done["errored_records"]) == (2, 1, 0, 0, 0), "p1 was rejected before, so it is inserted now"


@pytest.mark.django_db
def test_events_are_listed_after_a_moment_given_with_any_offset(organization, api):
    event = Event.objects.create(organization=organization, type="sync.completed", payload={})
    before = (event.created_at - timedelta(minutes=1)).astimezone(dt_timezone(timedelta(hours=21, minutes=50)))
    listed = api.get("/api/events", {"starting_after": before.isoformat()})
    assert listed.status_code == 200, listed.content
    assert [e["id"] for e in listed.json()["data"]] == [str(event.pk)]
    far = api.get("/api/events", {"starting_after": "0001-01-01T00:00:00+10:00"})
    assert far.status_code == 400
    assert far.json()["metadata"]["errors"] == [{"field": "starting_after", "message": "is out of range"}]
