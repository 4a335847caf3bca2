"""A bulk run's console log (the run's, one object's, and a source connection's) and its log files."""

import io
import json
import zipfile

import pytest
from django.test import Client

from console.bulk import runs

from .test_api import body, created  # noqa: F401  (the body fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ran(bulk_api, body, fake_source, monkeypatch):  # noqa: F811
    monkeypatch.setenv("ENGINE_QUEUE", "bulk-logs-no-worker")
    fake_source.records["Contact"] = [{"Id": "c1", "Email": "a@x.example", "SystemModstamp": "2026-01-01T00:00:00Z"}]
    sync = created(bulk_api, body(schemas=["Contact", "Account"]))
    started = bulk_api.post(f"/api/bulk/syncs/{sync['id']}/executions", {}).json()["data"]
    runs.bulk_runs.run(started["id"])
    return sync, f"/api/bulk/syncs/{sync['id']}/executions/{started['id']}"


def messages(answer) -> list[str]:
    assert answer.status_code == 200, answer.content
    return [e["message"] for e in answer.json()["data"]["entries"]]


def test_the_console_log_tells_the_run_and_each_object(bulk_api, ran):
    sync, execution = ran
    every = messages(bulk_api.get(f"{execution}/consolelog"))
    assert every[0] == "Run queued (trigger: api)." and every[-1].startswith("Ended completed: 1 records written")
    assert "Contact: 1 records written (0 deleted, 0 skipped)." in every
    contact = messages(bulk_api.get(f"{execution}/schemas/Contact/consolelog"))
    assert contact == ["Contact: Copying 5 fields into salesforce_contact.",
                       "Contact: 1 records written (0 deleted, 0 skipped)."]
    first = bulk_api.get(f"{execution}/consolelog?limit=1").json()["data"]
    assert [e["message"] for e in first["entries"]] == every[-1:]
    cursor = bulk_api.get(f"{execution}/consolelog").json()["data"]["entries"][0]["id"]
    assert messages(bulk_api.get(f"{execution}/consolelog?after={cursor}")) == every[1:]
    assert bulk_api.get(f"{execution}/consolelog?after=yesterday").status_code == 400
    assert bulk_api.get(f"{execution}/schemas/Lead/consolelog").status_code == 404


def test_a_source_connections_ingest_log_holds_its_bulk_runs_lines(bulk_api, ran, salesforce, sqlite_destination):
    sync, execution = ran
    ingest = messages(bulk_api.get(f"/api/connections/{salesforce.pk}/ingest/consolelog?sync_id={sync['id']}"))
    assert ingest == messages(bulk_api.get(f"{execution}/consolelog"))
    assert messages(bulk_api.get(f"/api/connections/{sqlite_destination.pk}/ingest/consolelog")) == []
    other = bulk_api.get(f"/api/connections/{sqlite_destination.pk}/ingest/consolelog?sync_id={sync['id']}")
    assert other.status_code == 404


def test_log_files_behind_signed_urls(bulk_api, ran, settings):
    sync, execution = ran
    answer = bulk_api.get(f"{execution}/logs").json()["data"]
    assert set(answer) == {"Expires", "URLs"}
    anonymous = Client()
    path = answer["URLs"][0].split(settings.PUBLIC_URL, 1)[1]
    lines = [json.loads(line) for line in anonymous.get(path).content.decode().splitlines()]
    assert ("Contact", "1 records written (0 deleted, 0 skipped).") in [(x["schema"], x["message"]) for x in lines]
    exported = bulk_api.post(f"{execution}/logs/export").json()
    assert exported["job"]["status"] == "done"
    archive = anonymous.get(exported["data"]["url"].split(settings.PUBLIC_URL, 1)[1])
    with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
        assert sorted(zipped.namelist()) == ["Account.jsonl", "Contact.jsonl", "run.jsonl"]
    token = path.split("/execution-logs/", 1)[1].split("/")[0]
    assert anonymous.get(path.replace(token, token[:-3] + "xyz")).status_code == 404
    assert anonymous.get(path.replace("execution.jsonl", "secrets.txt")).status_code == 404


def test_another_organizations_logs_are_not_found(other_api, ran, salesforce):
    sync, execution = ran
    assert other_api.get(f"{execution}/consolelog").status_code == 404
    assert other_api.get(f"{execution}/logs").status_code == 404
    assert other_api.get(f"/api/connections/{salesforce.pk}/ingest/consolelog").status_code == 404


def test_bulk_events_carry_the_declared_payload_and_are_listed_types(bulk_api, ran, salesforce, sqlite_destination):
    from console.engine.models import Event

    sync, execution = ran
    completed = Event.objects.get(type="bulk_sync.completed").payload
    assert completed == {
        "sync_id": sync["id"], "sync_name": sync["name"], "execution_id": execution.rsplit("/", 1)[-1],
        "organization_id": sync["organization_id"], "source_connection_id": str(salesforce.pk),
        "destination_connection_id": str(sqlite_destination.pk), "trigger_source": "api",
        "schedule": {"frequency": "manual", "id": sync["id"]}}
    assert "source_connection_id" in Event.objects.get(type="bulk_sync.running").payload
    types = bulk_api.get("/api/events_types").json()["data"]
    assert {"bulk_sync.running", "bulk_sync.completed", "bulk_sync.completed_with_error", "bulk_sync.failed",
            "bulk_sync.canceled", "sync.completed", "sync.completed_with_errors"} <= set(types)
