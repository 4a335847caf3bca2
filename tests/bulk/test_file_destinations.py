"""A SQLite bulk-sync destination writes only inside FILE_CONNECTIONS_DIR; without the setting
it cannot be chosen, and a run of a sync that names one fails with the reason."""

import pytest

from console.bulk import runs
from console.bulk.models import BulkSync
from integrations.files import FILES_OFF


@pytest.fixture
def body(fake_source, salesforce):
    fake_source.records["Contact"] = [{"Id": "c1", "Email": "ada@acme.example", "LastName": "Lovelace",
                                       "SystemModstamp": "2026-01-01T00:00:00Z"}]

    def make(destination):
        return {"name": "Salesforce to a file", "source_connection_id": str(salesforce.pk),
                "destination_connection_id": str(destination.pk),
                "destination_configuration": {"schema": "salesforce"},
                "default_schedule": {"frequency": "manual"}, "schemas": ["Contact"]}

    return make


def run(bulk_api, sync) -> dict:
    started = bulk_api.post(f"/api/bulk/syncs/{sync['id']}/executions").json()["data"]
    runs.bulk_runs.run(started["id"])
    return bulk_api.get(f"/api/bulk/syncs/{sync['id']}/executions/{started['id']}").json()["data"]


def test_without_the_setting_a_sqlite_destination_is_a_400_that_says_why(bulk_api, body, sqlite_destination,
                                                                           settings):
    settings.FILE_CONNECTIONS_DIR = ""
    response = bulk_api.post("/api/bulk/syncs", body(sqlite_destination))
    assert response.status_code == 400
    assert response.json()["metadata"]["errors"] == [{"field": "destination_connection_id", "message": FILES_OFF}]
    assert not BulkSync.objects.exists()


def test_a_run_writes_inside_the_folder_and_fails_with_the_reason_once_files_are_off(
        bulk_api, body, sqlite_destination, settings, tmp_path):
    response = bulk_api.post("/api/bulk/syncs", body(sqlite_destination))
    assert response.status_code == 200, response.content
    sync = response.json()["data"]
    assert run(bulk_api, sync)["status"] == "completed"
    assert (tmp_path / "warehouse.sqlite3").is_file()

    settings.FILE_CONNECTIONS_DIR = ""
    execution = run(bulk_api, sync)
    assert execution["status"] == "failed"
    assert FILES_OFF in execution["status_message"]


def test_a_stored_destination_path_outside_the_folder_fails_the_run_and_writes_nothing(
        bulk_api, body, sqlite_destination, tmp_path):
    sync = bulk_api.post("/api/bulk/syncs", body(sqlite_destination)).json()["data"]
    outside = tmp_path.parent / f"{tmp_path.name}-outside.sqlite3"
    sqlite_destination.configuration = {"path": str(outside)}
    sqlite_destination.save()
    execution = run(bulk_api, sync)
    assert execution["status"] == "failed"
    assert "outside the console's folder" in execution["status_message"]
    assert not outside.exists()
