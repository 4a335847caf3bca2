"""A model sync's error handling: set through the API, honoured when runs end."""

import pytest
from django.core import mail

from console.engine import notifications
from console.engine.models import ExecutionStatus
from tests.engine.fakes import FakeTarget
from tests.engine.test_run import people

pytestmark = pytest.mark.django_db


def put(api, sync, body):
    return api.put(f"/api/syncs/{sync.pk}/error-handling", body, content_type="application/json")


def test_error_handling_is_read_and_replaced_through_the_api(api, make_sync):
    sync = make_sync()
    assert api.get(f"/api/syncs/{sync.pk}/error-handling").json()["data"] == {
        "subscribers": [], "notify_after_failures": 1, "notify_on_record_errors": False,
        "warning_notifications": False, "auto_retry_record_errors": False}
    saved = put(api, sync, {"subscribers": ["ops@example.com"], "notify_after_failures": 2,
                            "notify_on_record_errors": True})
    assert saved.status_code == 200, saved.content
    assert api.get(f"/api/syncs/{sync.pk}/error-handling").json()["data"] == {
        "subscribers": ["ops@example.com"], "notify_after_failures": 2, "notify_on_record_errors": True,
        "warning_notifications": False, "auto_retry_record_errors": False}


@pytest.mark.parametrize(("body", "field"), [
    ({"subscribers": ["not an address"]}, "subscribers[0]"),
    ({"notify_after_failures": 0}, "notify_after_failures"),
    ({"notify_after_failures": 101}, "notify_after_failures"),
    ({"warning_notifications": "often"}, "warning_notifications"),
    ({"subscriber": ["ops@example.com"]}, "subscriber"),
])
def test_bad_error_handling_is_a_400_naming_the_field_and_changes_nothing(api, make_sync, body, field):
    sync = make_sync()
    put(api, sync, {"subscribers": ["ops@example.com"]})
    refused = put(api, sync, body)
    assert refused.status_code == 400
    assert refused.json()["metadata"]["errors"][0]["field"] == field
    assert api.get(f"/api/syncs/{sync.pk}/error-handling").json()["data"]["subscribers"] == ["ops@example.com"]


def test_another_organizations_sync_is_not_found(other_api, make_sync):
    assert other_api.get(f"/api/syncs/{make_sync().pk}/error-handling").status_code == 404


def test_subscribers_are_emailed_only_after_the_failures_in_a_row_they_chose(api, make_sync, run_in_process):
    sync = make_sync()
    put(api, sync, {"subscribers": ["ops@example.com"], "notify_after_failures": 2})
    sync.refresh_from_db()
    first = run_in_process(sync, [{"email": "a@example.com"}], FakeTarget())
    assert first.status == ExecutionStatus.FAILED
    assert notifications.send_failure_email(first) == 0
    second = run_in_process(sync, [{"email": "a@example.com"}], FakeTarget())
    assert notifications.send_failure_email(second) == 1
    assert mail.outbox[-1].to == ["ops@example.com"] and "failed" in mail.outbox[-1].subject


def test_runs_with_record_errors_count_only_when_chosen(api, make_sync, run_in_process):
    sync = make_sync()
    put(api, sync, {"subscribers": ["ops@example.com"]})
    sync.refresh_from_db()
    rejected = run_in_process(sync, people(2), FakeTarget(reject={"p1@example.com": "x"}))
    assert rejected.status == ExecutionStatus.COMPLETED and rejected.errored == 1
    assert not notifications.run_failed(rejected)
    put(api, sync, {"subscribers": ["ops@example.com"], "notify_on_record_errors": True})
    rejected.sync.refresh_from_db()
    assert notifications.run_failed(rejected)
    assert notifications.send_failure_email(rejected) == 1
    assert "record errors" in mail.outbox[-1].subject


def test_the_notification_settings_page_shows_the_saved_error_handling(api, console, make_sync):
    sync = make_sync()
    put(api, sync, {"subscribers": ["ops@example.com"], "notify_after_failures": 4})
    page = console.get(f"/syncs/{sync.pk}/notifications")
    assert page.status_code == 200
    assert b"ops@example.com</textarea>" in page.content and b'value="4"' in page.content
