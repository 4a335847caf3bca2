"""Per-schema settings of a bulk sync (PUT and PATCH /api/bulk/syncs/{id}/schemas[/{schema_id}]):
checked against the source's fields, and honoured by the next run; canceling one object's copy."""

import sqlite3

import pytest

from console.bulk import runs
from console.bulk.models import BulkExecution, BulkSync

from .test_api import body, created  # noqa: F401  (the body fixture)

pytestmark = pytest.mark.django_db

PEOPLE = [
    {"Id": "c1", "Email": "ada@acme.example", "LastName": "Lovelace", "SystemModstamp": "2026-01-01T00:00:00Z"},
    {"Id": "c2", "Email": "grace@navy.example", "LastName": "Hopper", "SystemModstamp": "2026-02-01T00:00:00Z"},
    {"Id": "c3", "Email": "alan@acme.example", "LastName": "Turing", "SystemModstamp": "2026-03-01T00:00:00Z"},
]


@pytest.fixture
def sync(bulk_api, body, fake_source, monkeypatch):  # noqa: F811
    monkeypatch.setenv("ENGINE_QUEUE", "bulk-schema-settings-no-worker")
    fake_source.records["Contact"] = [dict(p) for p in PEOPLE]
    return created(bulk_api, body(schemas=["Contact"]))


def run(bulk_api, sync) -> BulkExecution:
    started = bulk_api.post(f"/api/bulk/syncs/{sync['id']}/executions", {}).json()["data"]
    return runs.bulk_runs.run(started["id"])


def copied(tmp_path) -> dict:
    with sqlite3.connect(tmp_path / "warehouse.sqlite3") as db:
        return dict(db.execute("select id, email from salesforce_contact").fetchall())


def test_a_patched_filter_changes_what_the_next_run_copies(bulk_api, sync, tmp_path):
    patched = bulk_api.call("patch", f"/api/bulk/syncs/{sync['id']}/schemas", {"schemas": [
        {"id": "Contact", "filters": [{"field_id": "Email", "function": "StringEndsWith", "value": "@acme.example"}]}]})
    assert patched.status_code == 200, patched.content
    (schema,) = patched.json()["data"]
    assert schema["filters"] == [{"field_id": "Email", "function": "StringEndsWith", "value": "@acme.example"}]
    assert run(bulk_api, sync).status == "completed"
    assert copied(tmp_path) == {"c1": "ada@acme.example", "c3": "alan@acme.example"}


def test_a_data_cutoff_leaves_older_records_out_until_it_is_disabled(bulk_api, sync, tmp_path):
    path = f"/api/bulk/syncs/{sync['id']}/schemas/Contact"
    put = bulk_api.put(path, {"data_cutoff_timestamp": "2026-01-15T00:00:00Z"})
    assert put.status_code == 200, put.content
    assert put.json()["data"]["data_cutoff_timestamp"] == "2026-01-15T00:00:00Z"
    run(bulk_api, sync)
    assert set(copied(tmp_path)) == {"c2", "c3"}
    bulk_api.call("patch", f"/api/bulk/syncs/{sync['id']}/schemas", {"schemas": [
        {"id": "Contact", "disable_data_cutoff": True}]})
    run(bulk_api, sync)
    assert set(copied(tmp_path)) == {"c1", "c2", "c3"}, "a changed schema is read in full again"


def test_put_replaces_one_schema_and_patch_keeps_what_it_does_not_name(bulk_api, sync):
    path = f"/api/bulk/syncs/{sync['id']}/schemas/Contact"
    bulk_api.put(path, {"fields": [{"id": "Email"}, {"id": "LastName", "enabled": False}], "partition_key": "Email",
                        "user_output_name": "people"})
    bulk_api.call("patch", f"/api/bulk/syncs/{sync['id']}/schemas", {"schemas": [{"id": "Account", "enabled": True}]})
    stored = {s["id"]: s for s in BulkSync.objects.get(pk=sync["id"]).schemas}
    assert stored["Contact"]["partition_key"] == "Email" and stored["Contact"]["user_output_name"] == "people"
    assert stored["Account"]["enabled"] is True
    one = bulk_api.get(path).json()["data"]
    assert one["output_name"] == "people" and one["partition_key"] == "Email"
    assert {f["id"]: f["enabled"] for f in one["fields"]}["LastName"] is False
    bulk_api.put(path, {})
    assert BulkSync.objects.get(pk=sync["id"]).schemas[0] == {"id": "Contact", "enabled": True, "fields": []}


@pytest.mark.parametrize(("method", "where", "payload", "status", "field"), [
    ("patch", "", {"schemas": [{"id": "Contact", "fields": [{"id": "Nickname"}]}]}, 400, "schemas[0].fields[0].id"),
    ("patch", "", {"schemas": [{"id": "Opportunity"}]}, 400, "schemas[0].id"),
    ("patch", "", {"schemas": [{"id": "Contact", "partition_key": "Nickname"}]}, 400, "schemas[0].partition_key"),
    ("patch", "", {"schemas": [{"id": "Contact", "filters": [{"field_id": "Email", "function": "Resembles"}]}]},
     400, "schemas[0].filters[0].function"),
    ("put", "/Contact", {"data_cutoff_timestamp": "last tuesday"}, 400, "data_cutoff_timestamp"),
    ("put", "/Contact", {"tracking_field": "Email"}, 400, "tracking_field"),
    ("put", "/Contact", {"history_enabled": True}, 400, "history_enabled"),
    ("put", "/Contact", {"colour": "blue"}, 400, "colour"),
    ("put", "/Opportunity", {"enabled": True}, 404, None),
])
def test_bad_schema_settings_are_refused_and_change_nothing(bulk_api, sync, method, where, payload, status, field):
    before = BulkSync.objects.get(pk=sync["id"]).schemas
    refused = bulk_api.call(method, f"/api/bulk/syncs/{sync['id']}/schemas{where}", payload)
    assert refused.status_code == status, refused.content
    assert set(refused.json()) == {"status", "message", "key", "metadata"}
    if field:
        assert refused.json()["metadata"]["errors"][0]["field"] == field
    assert BulkSync.objects.get(pk=sync["id"]).schemas == before


def test_canceling_one_objects_copy_lets_the_others_finish(bulk_api, body, fake_source, monkeypatch,  # noqa: F811
                                                           tmp_path):
    monkeypatch.setenv("ENGINE_QUEUE", "bulk-schema-settings-no-worker")
    fake_source.records["Contact"] = [dict(p) for p in PEOPLE]
    fake_source.records["Account"] = [{"Id": "a1", "Name": "Acme", "SystemModstamp": "2026-01-01T00:00:00Z"}]
    sync = created(bulk_api, body(schemas=["Contact", "Account"]))
    cancel = f"/api/bulk/syncs/{sync['id']}/schemas/Contact/cancel"
    assert bulk_api.post(cancel).json()["data"]["message"] == "No copy of Contact is running or waiting."
    started = bulk_api.post(f"/api/bulk/syncs/{sync['id']}/executions", {}).json()["data"]
    assert bulk_api.post(cancel).json()["data"]["message"] == "The copy of Contact is being canceled."
    execution = runs.bulk_runs.run(started["id"])
    assert execution.status == "completed"
    assert {s.schema: s.status for s in execution.schemas.all()} == {"Contact": "canceled", "Account": "completed"}
    assert bulk_api.post(f"/api/bulk/syncs/{sync['id']}/schemas/Lead/cancel").status_code == 404
