"""Run history pages, with Django's test client (the browser test drives a real worker)."""

import pytest
from django.test import Client

from console.engine import services
from console.engine.models import NotificationSettings, Webhook
from console.engine.models import Execution, ExecutionStatus
from tests.engine.fakes import FakeTarget
from tests.engine.test_run import people

pytestmark = pytest.mark.django_db


def test_runs_page_lists_runs_with_counts_and_a_chart(console, make_sync, run_in_process):
    sync = make_sync()
    run_in_process(sync, people(3), FakeTarget())
    run_in_process(sync, people(4), FakeTarget(reject={"p3@example.com": "Nope"}))
    page = console.get(f"/syncs/{sync.pk}/runs").content.decode()
    assert "Runs of" in page and "Run now" in page and "Dry run" in page
    assert page.count('<rect class="written"') == 1  # the second run wrote nothing new
    assert page.count('<rect class="problems"') == 1 and page.count('<rect class="unchanged"') == 1
    assert page.count("badge ok") == 2


def test_other_organizations_cannot_see_runs(make_sync, db):
    from console.accounts.services import sign_up

    sync = make_sync()
    stranger = Client()
    stranger.force_login(sign_up("x@example.com", "correct-horse-battery", "Other"))
    assert stranger.get(f"/syncs/{sync.pk}/runs").status_code == 404


def test_run_now_starts_and_shows_the_run(console, make_sync):
    sync = make_sync()
    response = console.post(f"/syncs/{sync.pk}/runs/start", {"kind": "run"})
    execution = Execution.objects.get(sync=sync)
    assert response.status_code == 302 and response["Location"] == f"/syncs/{sync.pk}/runs/{execution.pk}"
    again = console.post(f"/syncs/{sync.pk}/runs/start", {"kind": "run"}, headers={"HX-Request": "true"})
    assert again["HX-Redirect"] == f"/syncs/{sync.pk}/runs/{execution.pk}"
    page = console.get(again["HX-Redirect"]).content.decode()
    assert 'hx-trigger="every 2s"' in page, "a queued run polls for progress"
    assert "Cancel" in page


def test_a_finished_run_page_stops_polling_and_lists_record_errors(console, make_sync, run_in_process):
    sync = make_sync()
    e = run_in_process(sync, people(3), FakeTarget(reject={"p1@example.com": "Email is invalid (422)"}))
    page = console.get(f"/syncs/{sync.pk}/runs/{e.pk}").content.decode()
    assert "every 2s" not in page
    assert "Retry failed records" in page
    progress = console.get(f"/syncs/{sync.pk}/runs/{e.pk}/progress?was=active")
    assert progress["HX-Trigger"] == "run-ended"
    errors = console.get(f"/syncs/{sync.pk}/runs/{e.pk}/errors").content.decode()
    assert "p1@example.com" in errors and "Email is invalid (422)" in errors
    assert "&quot;first&quot;: &quot;P1&quot;" in errors, "the payload sent is shown"
    nothing = console.get(f"/syncs/{sync.pk}/runs/{e.pk}/errors?q=p2").content.decode()
    assert "0 record errors" in nothing
    retry = console.post(f"/syncs/{sync.pk}/runs/{e.pk}/retry")
    assert Execution.objects.get(retry_of=e).pk.hex in retry["Location"].replace("-", "")


def test_a_dry_run_page_shows_the_plan(console, make_sync, run_in_process):
    sync = make_sync()
    e = run_in_process(sync, people(2), FakeTarget(), dry_run=True)
    page = console.get(f"/syncs/{sync.pk}/runs/{e.pk}").content.decode()
    assert 'id="dry-run-plan"' in page and "Would insert" in page
    assert "p0@example.com" in page


def test_cancel_from_the_page(console, make_sync):
    sync = make_sync()
    e = services.start_execution(sync)
    console.post(f"/syncs/{sync.pk}/runs/{e.pk}/cancel")
    assert Execution.objects.get(pk=e.pk).status == ExecutionStatus.CANCELED


def test_notification_settings(console, organization):
    page = console.get("/settings/notifications")
    assert page.status_code == 200
    missing_secret = console.post("/settings/notifications", {"endpoint": "https://hooks.example.com/x", "enabled": "on"})
    assert b"needs a signing secret" in missing_secret.content
    console.post("/settings/notifications", {
        "endpoint": "https://hooks.example.com/x", "secret": "s3cret", "enabled": "on",
        "emails": "ops@example.com\n  \nlead@example.com"})
    webhook = Webhook.objects.get(organization=organization)
    assert webhook.secret == "s3cret" and not webhook.disabled
    assert "s3cret" not in webhook.encrypted_secret
    assert NotificationSettings.objects.get(organization=organization).emails == ["ops@example.com", "lead@example.com"]
    assert b"s3cret" not in console.get("/settings/notifications").content
    console.post("/settings/notifications", {"endpoint": "https://hooks.example.com/y", "emails": ""})
    webhook.refresh_from_db()
    assert webhook.secret == "s3cret" and webhook.disabled and webhook.endpoint.endswith("/y")
