"""A bulk sync's error handling: set through the API, honoured when runs fail."""

import pytest
from django.core import mail

from console.bulk import runs

from .test_api import body, created  # noqa: F401  (the body fixture)

pytestmark = pytest.mark.django_db


def path(sync) -> str:
    return f"/api/bulk/syncs/{sync['id']}/error-handling"


def test_error_handling_is_read_and_replaced_through_the_api(bulk_api, body):  # noqa: F811
    sync = created(bulk_api, body())
    assert bulk_api.get(path(sync)).json()["data"] == {
        "subscribers": [], "notify_after_failures": 1, "ingestion_failure_threshold": None}
    saved = bulk_api.put(path(sync), {"subscribers": ["data@example.com"], "ingestion_failure_threshold": 600})
    assert saved.status_code == 200, saved.content
    assert bulk_api.get(path(sync)).json()["data"] == {
        "subscribers": ["data@example.com"], "notify_after_failures": 1, "ingestion_failure_threshold": 600}


@pytest.mark.parametrize(("change", "field"), [
    ({"subscribers": "data@example.com"}, "subscribers"),
    ({"ingestion_failure_threshold": -1}, "ingestion_failure_threshold"),
    ({"notify_after_failures": 0}, "notify_after_failures"),
])
def test_bad_error_handling_is_a_400_and_changes_nothing(bulk_api, body, change, field):  # noqa: F811
    sync = created(bulk_api, body())
    bulk_api.put(path(sync), {"subscribers": ["data@example.com"]})
    refused = bulk_api.put(path(sync), change)
    assert refused.status_code == 400
    assert refused.json()["metadata"]["errors"][0]["field"] == field
    assert bulk_api.get(path(sync)).json()["data"]["subscribers"] == ["data@example.com"]


def test_subscribers_are_emailed_after_the_failures_in_a_row_they_chose(bulk_api, body, fake_source,  # noqa: F811
                                                                       monkeypatch):
    monkeypatch.setenv("ENGINE_QUEUE", "bulk-error-handling-no-worker")
    sync = created(bulk_api, body())
    bulk_api.put(path(sync), {"subscribers": ["data@example.com"], "notify_after_failures": 2})
    fake_source.broken = True
    sent = []
    for _ in range(2):
        started = bulk_api.post(f"/api/bulk/syncs/{sync['id']}/executions", {}).json()["data"]
        execution = runs.bulk_runs.run(started["id"])
        assert execution.status == "failed"
        sent.append(runs.send_failure_email(execution))
    assert sent == [0, 1]
    assert mail.outbox[-1].to == ["data@example.com"] and "connection refused" in mail.outbox[-1].body
