import json

import pytest
from django.test import Client

from console.engine import services
from console.engine.models import Execution, ExecutionStatus
from tests.engine.fakes import FakeTarget
from tests.engine.test_run import people

pytestmark = pytest.mark.django_db


def data(response, status=200):
    assert response.status_code == status, response.content
    return response.json()


def post(api, url, body=None):
    return api.post(url, json.dumps(body or {}), content_type="application/json")


def test_start_returns_the_execution_and_a_second_start_is_a_conflict(api, make_sync):
    sync = make_sync()
    started = data(post(api, f"/api/syncs/{sync.pk}/executions", {"resync": False}))["data"]
    assert started["status"] == "queued" and started["id"] and started["created_at"]
    conflict = data(post(api, f"/api/syncs/{sync.pk}/executions"), 409)
    assert conflict["key"] == "sync_running"
    assert conflict["metadata"]["execution_id"] == started["id"]
    test_run = data(post(api, f"/api/syncs/{sync.pk}/executions", {"test": True}))["data"]
    assert Execution.objects.get(pk=test_run["id"]).dry_run


def test_start_with_identities_and_source_identities(api, make_sync, data_model):
    sync = make_sync()
    first = data(post(api, f"/api/syncs/{sync.pk}/executions", {"identities": ["a@example.com"]}))["data"]
    assert Execution.objects.get(pk=first["id"]).identities == ["a@example.com"]
    services.sync_runs.cancel_sync(sync)
    body = {"source_identities": [[{"source": {"model_id": str(data_model.pk), "field": "email"}, "value": "b@example.com"}]]}
    second = data(post(api, f"/api/syncs/{sync.pk}/executions", body))["data"]
    assert Execution.objects.get(pk=second["id"]).identities == ["b@example.com"]
    services.sync_runs.cancel_sync(sync)
    wrong = {"source_identities": [[{"source": {"field": "plan"}, "value": "x"}]]}
    assert "source_identities" in data(post(api, f"/api/syncs/{sync.pk}/executions", wrong), 400)["message"]


def test_executions_of_another_organization_are_not_found(other_api, make_sync):
    sync = make_sync()
    assert data(post(other_api, f"/api/syncs/{sync.pk}/executions"), 404)["key"] == "not_found"
    assert other_api.get(f"/api/syncs/{sync.pk}/status").status_code == 404


def test_an_execution_reports_polytomic_counts_and_ours(api, make_sync, run_in_process):
    sync = make_sync()
    target = FakeTarget(reject={"p1@example.com": "Invalid email"})
    rows = people(4) + [{"email": None, "first_name": "X", "plan": "free"}]
    e = run_in_process(sync, rows, target, trigger="api")
    body = data(api.get(f"/api/syncs/{sync.pk}/executions/{e.pk}"))["data"]
    assert body["id"] == str(e.pk) and body["type"] == "api" and body["status"] == "completed"
    assert body["counts"] == {
        "total": 5, "insert": 3, "update": 0, "upserts": 3, "delete": 0, "error": 2, "warnings": 0,
        "queried": 5, "invalid": 1, "unchanged": 0, "inserted": 3, "updated": 0, "removed": 0,
        "errored": 1, "vanished": 0,
    }
    assert body["errors"] == []
    assert body["started_at"] and body["completed_at"]


def test_the_sdk_reads_executions(api, make_sync, run_in_process):
    from polytomic.types import GetExecutionResponseEnvelope, ListExecutionResponseEnvelope, SyncStatusEnvelope

    sync = make_sync()
    e = run_in_process(sync, people(2), FakeTarget())
    one = GetExecutionResponseEnvelope.model_validate(api.get(f"/api/syncs/{sync.pk}/executions/{e.pk}").json())
    assert one.data.counts.insert == 2 and one.data.status == "completed"
    listed = ListExecutionResponseEnvelope.model_validate(api.get(f"/api/syncs/{sync.pk}/executions").json())
    assert [x.id for x in listed.data] == [str(e.pk)]
    status = SyncStatusEnvelope.model_validate(api.get(f"/api/syncs/{sync.pk}/status").json())
    assert status.data.last_execution.id == str(e.pk) and status.data.current_execution is None


def test_list_is_newest_first_paged_and_filtered(api, make_sync, run_in_process):
    sync = make_sync()
    target = FakeTarget()
    done = [run_in_process(sync, people(1), target) for _ in range(3)]
    canceled = services.start_execution(sync)
    services.sync_runs.cancel(canceled)
    page = data(api.get(f"/api/syncs/{sync.pk}/executions?limit=2"))
    assert [x["id"] for x in page["data"]] == [str(canceled.pk), str(done[2].pk)]
    token = page["pagination"]["next_page_token"]
    rest = data(api.get(f"/api/syncs/{sync.pk}/executions?limit=2&page_token={token}"))
    assert [x["id"] for x in rest["data"]] == [str(done[1].pk), str(done[0].pk)]
    assert rest["pagination"]["next_page_token"] is None
    oldest = data(api.get(f"/api/syncs/{sync.pk}/executions?ascending=true&limit=1"))["data"]
    assert oldest[0]["id"] == str(done[0].pk)
    completed = data(api.get(f"/api/syncs/{sync.pk}/executions?only_completed=true"))["data"]
    assert {x["id"] for x in completed} == {str(e.pk) for e in done}


def test_status_shows_the_current_and_last_execution(api, make_sync, run_in_process):
    sync = make_sync()
    last = run_in_process(sync, people(1), FakeTarget())
    current = services.start_execution(sync)
    body = data(api.get(f"/api/syncs/{sync.pk}/status"))["data"]
    assert body["current_execution"]["id"] == str(current.pk)
    assert body["last_execution"]["id"] == str(last.pk)
    assert body["next_execution_time"] is None


def test_cancel_a_sync_and_an_execution(api, make_sync):
    sync = make_sync()
    assert data(post(api, f"/api/syncs/{sync.pk}/cancel"))["data"]["message"] == "No execution is running."
    e = services.start_execution(sync)
    assert data(post(api, f"/api/syncs/{sync.pk}/cancel"))["data"]["message"] == "Execution canceled."
    again = data(post(api, f"/api/syncs/{sync.pk}/executions/{e.pk}/cancel"), 400)
    assert again["key"] == "not_cancelable"
    running = services.start_execution(sync)
    Execution.objects.filter(pk=running.pk).update(status=ExecutionStatus.RUNNING)
    message = data(post(api, f"/api/syncs/{sync.pk}/executions/{running.pk}/cancel"))["data"]["message"]
    assert message == "Execution is being canceled."
    assert Execution.objects.get(pk=running.pk).status == ExecutionStatus.CANCELING


def test_console_log_pages_with_a_cursor(api, make_sync, run_in_process):
    sync = make_sync()
    e = run_in_process(sync, people(2), FakeTarget())
    logs = data(api.get(f"/api/syncs/{sync.pk}/executions/{e.pk}/consolelog"))["data"]
    messages = [entry["message"] for entry in logs["entries"]]
    assert messages[0].startswith("Run queued") and messages[-1].startswith("Completed: 2 rows read")
    first = data(api.get(f"/api/syncs/{sync.pk}/executions/{e.pk}/consolelog?limit=1"))["data"]
    assert first["entries"][0]["message"] == messages[-1], "without a cursor: the latest entries"
    cursor = logs["entries"][0]["id"]
    after = data(api.get(f"/api/syncs/{sync.pk}/executions/{e.pk}/consolelog?after={cursor}"))["data"]
    assert [x["message"] for x in after["entries"]] == messages[1:]
    assert after["next_cursor"] == logs["entries"][-1]["id"]


def test_record_logs_behind_signed_urls(api, make_sync, run_in_process):
    sync = make_sync()
    e = run_in_process(sync, people(3), FakeTarget(reject={"p2@example.com": "Nope (400)"}))
    index = data(api.get(f"/api/syncs/{sync.pk}/executions/{e.pk}/logs"))["data"]
    assert index["errors"]["count"] == 1 and index["inserts"]["count"] == 2
    assert index["errors"]["url"].endswith(f"/api/syncs/{sync.pk}/executions/{e.pk}/errors")
    urls = data(api.get(f"/api/syncs/{sync.pk}/executions/{e.pk}/errors"))["data"]
    assert urls["expires"] and len(urls["urls"]) == 1
    anonymous = Client()
    path = urls["urls"][0].split("8000", 1)[-1]
    file = anonymous.get(path)
    lines = [json.loads(line) for line in b"".join(file.streaming_content).decode().splitlines()]
    assert lines[0]["identity"] == "p2@example.com" and lines[0]["message"] == "Nope (400)"
    inserts = data(api.get(f"/api/syncs/{sync.pk}/executions/{e.pk}/inserts"))["data"]["urls"][0]
    rows = b"".join(anonymous.get(inserts.split("8000", 1)[-1]).streaming_content).decode().splitlines()
    assert sorted(json.loads(r)["identity"] for r in rows) == ["p0@example.com", "p1@example.com"]
    filename = urls["urls"][0].rsplit("/", 1)[-1]
    assert filename == "errors.jsonl", "each URL names its file, which the per-file route takes"
    redirect = api.get(f"/api/syncs/{sync.pk}/executions/{e.pk}/errors/{filename}")
    assert redirect.status_code == 302 and "/execution-logs/" in redirect["Location"]
    assert api.get(f"/api/syncs/{sync.pk}/executions/{e.pk}/errors/inserts.jsonl").status_code == 404
    token = path.split("/execution-logs/", 1)[1].split("/")[0]
    assert anonymous.get(path.replace(token, token[:-3] + "xyz")).status_code == 404
    assert anonymous.get(path.replace("errors.jsonl", "inserts.jsonl")).status_code == 404
    assert data(api.get(f"/api/syncs/{sync.pk}/executions/{e.pk}/bogus"), 400)["message"].startswith("type:")


def test_record_errors_are_searchable_by_identity(api, make_sync, run_in_process):
    sync = make_sync()
    reject = {f"p{i}@example.com": f"Bad {i}" for i in (1, 2, 12)}
    e = run_in_process(sync, people(13), FakeTarget(reject=reject))
    body = data(api.get(f"/api/syncs/{sync.pk}/executions/{e.pk}/record-errors?identity=p1"))
    assert {x["identity"] for x in body["data"]} == {"p1@example.com", "p12@example.com"}
    assert body["data"][0]["payload"]["email"] == body["data"][0]["identity"]


def test_retry_failed_records_through_the_api(api, make_sync, run_in_process):
    sync = make_sync()
    e = run_in_process(sync, people(3), FakeTarget(reject={"p0@example.com": "No"}))
    retry = data(post(api, f"/api/syncs/{sync.pk}/executions/{e.pk}/retry"))["data"]
    assert Execution.objects.get(pk=retry["id"]).retry_of_id == e.pk
    services.sync_runs.cancel_sync(sync)
    clean = run_in_process(sync, people(1, start=5), FakeTarget(), trigger="manual")
    assert data(post(api, f"/api/syncs/{sync.pk}/executions/{clean.pk}/retry"), 400)["key"] == "nothing_to_retry"


def test_webhook_events_and_subscribers_api(api, other_api, make_sync, run_in_process):
    from polytomic.types import EventsEnvelope, WebhookEnvelope

    body = {"endpoint": "https://hooks.example.com/in", "secret": "shh"}
    created = data(post(api, "/api/webhooks", body))
    WebhookEnvelope.model_validate(created)
    hook = created["data"]
    assert hook["endpoint"] == body["endpoint"] and hook["secret"] is None and not hook["disabled"]
    assert data(post(api, "/api/webhooks", body), 409)["key"] == "conflict"
    assert data(post(api, "/api/webhooks", {"endpoint": "https://", "secret": "s"}), 422)["message"].startswith("endpoint")
    assert data(post(api, "/api/webhooks", {"endpoint": "ftp://x", "secret": "s"}), 400)["message"] == \
        "endpoint: ftp: is not allowed; this console connects only over http and https"
    disabled = data(post(api, f"/api/webhooks/{hook['id']}/disable"))["data"]
    assert disabled["disabled"] and disabled["disabled_at"]
    assert other_api.get(f"/api/webhooks/{hook['id']}").status_code == 404
    assert api.delete(f"/api/webhooks/{hook['id']}").status_code == 200
    assert data(api.get("/api/webhooks"))["data"] == []

    sync = make_sync()
    run_in_process(sync, people(1), FakeTarget())
    events = data(api.get("/api/events?type=sync.completed"))
    EventsEnvelope.model_validate(events)
    assert [e["event"]["sync_id"] for e in events["data"]] == [str(sync.pk)]
    assert data(other_api.get("/api/events"))["data"] == []
    assert "sync.failed" in data(api.get("/api/events_types"))["data"]

    assert api.get("/api/notifications/global-error-subscribers").json() == {"emails": []}
    saved = api.put("/api/notifications/global-error-subscribers", json.dumps({"emails": ["ops@example.com"]}),
                    content_type="application/json")
    assert saved.json() == {"emails": ["ops@example.com"]}
    bad = api.put("/api/notifications/global-error-subscribers", json.dumps({"emails": ["nope"]}),
                  content_type="application/json")
    assert bad.status_code == 400
