"""Files and SQL, tried as a tenant would against the live server, and the worker where a
run is involved.

The console's database (with its session table), its keys and any file outside the
folder the operator opened (FILE_CONNECTIONS_DIR) are read and written through no
connection: not a SQLite path to them, plain, climbing with '..' or through a symlink;
not ATTACH in a model's query; not DuckDB's file functions on the demo warehouse. A
query that is not one read leaves the demo warehouse as it was, whoever previews it.
"""

import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection as database
from django.test import Client

from console.accounts.services import create_api_key
from console.connections.models import Connection
from integrations.files import FILES_OFF
from tests.e2e.conftest import model_of  # noqa: F401  (fixture)
from tests.security.conftest import run_sync

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def session_key(org_admin) -> str:
    """A signed-in user's session, stored in the console's django_session table."""
    client = Client()
    client.force_login(org_admin)
    return client.session.session_key


def console_files() -> list[Path]:
    """The console's keys, and its database when that is a file (SQLite)."""
    files = [Path(settings.VAR_DIR) / "secret_key", Path(settings.VAR_DIR) / "encryption_keys"]
    if database.vendor == "sqlite":
        files.append(Path(database.settings_dict["NAME"]))
    return [path for path in files if path.exists()]


def sqlite(path) -> dict:
    return {"name": f"File {uuid.uuid4().hex[:6]}", "type": "sqlite", "configuration": {"path": str(path)}}


def preview(client, connection_id, query):
    return client.post("/api/model-preview", json={"name": "peek", "connection_id": str(connection_id),
                                                   "configuration": {"query": query}})


def test_without_the_setting_no_sqlite_connection_can_be_made(live, settings, session_key):
    settings.FILE_CONNECTIONS_DIR = ""
    assert "sqlite" not in {kind["id"] for kind in live.get("/api/connection_types").json()["data"]}
    for path in console_files():
        for endpoint in ("/api/connections", "/api/connections/test"):
            refused = live.post(endpoint, json=sqlite(path))
            assert (refused.status_code, refused.json()["message"]) == (400, f"type: {FILES_OFF}"), refused.text
    assert not Connection.objects.filter(type="sqlite").exists()


def test_the_consoles_files_are_no_connections_path(live, settings, file_folder, tmp_path, session_key):
    for path in console_files():
        (file_folder / f"link-{path.name}").symlink_to(path)
        climb = Path(*[".."] * len(file_folder.resolve().parts)) / str(path.resolve()).lstrip("/")
        for given in (str(path), str(climb), f"link-{path.name}"):
            refused = live.post("/api/connections", json={**sqlite(given), "validate": False})
            assert refused.status_code == 400, (given, refused.text)
            assert refused.json()["metadata"]["errors"][0]["field"] == "configuration.path"
    settings.FILE_CONNECTIONS_DIR = str(settings.VAR_DIR)  # an operator opened var/ itself
    for path in console_files():
        refused = live.post("/api/connections", json=sqlite(path.name))
        assert refused.status_code == 400 and "console's own files" in refused.json()["message"], refused.text
    assert not Connection.objects.filter(type="sqlite").exists()


def test_a_stored_connection_to_the_consoles_database_reads_no_session(live, organization, file_folder, session_key):
    """One saved before the rule, or edited in the database: it still reaches nothing."""
    for path in console_files():
        stored = Connection.objects.create(organization=organization, name=f"Old {path.name}", type="sqlite",
                                           configuration={"path": str(path)})
        said = [preview(live, stored.pk, "SELECT session_key, session_data FROM django_session"),
                live.post("/api/models", json={"name": "Sessions", "connection_id": str(stored.pk),
                                               "configuration": {"query": "SELECT * FROM django_session"}}),
                live.post("/api/models", json={"name": "Sessions", "connection_id": str(stored.pk),
                                               "configuration": {"table": "django_session"}})]
        for response in said:
            assert response.status_code == 400, response.text
            assert "outside the console's folder" in response.json()["message"]
            assert session_key not in response.text
        refreshed = live.put(f"/api/connections/{stored.pk}", json={"name": stored.name,
                                                                    "configuration": stored.configuration})
        assert refreshed.status_code == 400 and session_key not in refreshed.text


def test_attach_in_a_model_query_is_refused_before_it_is_sent(live, file_folder, tmp_path, session_key):
    made = live.post("/api/connections", json=sqlite("tenant.sqlite3"))
    assert (made.status_code, made.json()["data"]["status"]) == (200, "healthy"), made.text
    connection_id = made.json()["data"]["id"]
    assert preview(live, connection_id, "SELECT email FROM people").status_code == 200
    copy = tmp_path / "copy.sqlite3"
    for path in console_files():
        for query in (f"ATTACH DATABASE '{path}' AS console",
                      f"SELECT email FROM people; ATTACH DATABASE '{path}' AS console",
                      f"VACUUM INTO '{copy}'"):
            refused = preview(live, connection_id, query)
            assert refused.status_code == 400, refused.text
            assert refused.json()["metadata"]["errors"][0]["field"] == "configuration.query"
    assert not copy.exists()


def test_the_demo_warehouses_file_functions_read_no_file(live, e2e, connection_of, session_key):
    snowflake = connection_of("snowflake")
    assert preview(live, snowflake.pk, "SELECT count(*) AS n FROM users").status_code == 200
    for path in console_files():
        content = path.read_bytes()[:40].decode("latin-1")
        for query in (f"SELECT * FROM read_text('{path}')", f"SELECT * FROM read_csv('{path}')",
                      f"SELECT * FROM read_blob('{path}')",
                      f"SELECT * FROM sqlite_scan('{path}', 'django_session')"):
            refused = preview(live, snowflake.pk, query)
            assert refused.status_code == 400, refused.text
            assert content not in refused.text and session_key not in refused.text


@pytest.fixture
def read_only(live_server, organization, org_admin):
    import httpx

    _, key = create_api_key(organization, "reader", created_by=org_admin, role="read_only")
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30.0) as client:
        yield client


def test_previews_that_would_write_change_nothing_in_the_demo_warehouse(live, read_only, e2e, connection_of,
                                                                        warehouse):
    snowflake = connection_of("snowflake")
    table = warehouse.copy("users", 5)
    before = warehouse.execute(f"SELECT * FROM {table} ORDER BY 1")
    writes = [f"DELETE FROM {table}", f"SELECT * FROM {table}; DELETE FROM {table}",
              f"SELECT 1 /* ; */ ; DROP TABLE {table}", f"UPDATE {table} SET email = 'x'",
              f"INSERT INTO {table} SELECT * FROM {table}", f"TRUNCATE TABLE {table}",
              f"CREATE TABLE {table}_copy AS SELECT * FROM {table}", f"SELECT * FROM {table} FOR UPDATE",
              f"WITH gone AS (DELETE FROM {table}) SELECT 1", f"MERGE INTO {table} t USING {table} s ON t.id = s.id "
                                                              "WHEN MATCHED THEN DELETE"]
    for client in (read_only, live):
        for query in writes:
            for path in ("/api/model-preview", "/api/model-preview?async=true"):
                refused = client.post(path, json={"name": "w", "connection_id": str(snowflake.pk),
                                                  "configuration": {"query": query}})
                assert refused.status_code == 400, (query, refused.text)
                assert refused.json()["metadata"]["errors"][0]["field"] == "configuration.query"
    saved = live.post("/api/models", json={"name": "w", "connection_id": str(snowflake.pk),
                                           "configuration": {"query": f"DELETE FROM {table}"}})
    assert saved.status_code == 400
    assert read_only.post("/api/models", json={"name": "w", "connection_id": str(snowflake.pk),
                                               "configuration": {"query": f"SELECT * FROM {table}"}}
                          ).status_code == 403
    assert warehouse.execute(f"SELECT * FROM {table} ORDER BY 1") == before
    assert not warehouse.execute(f"SELECT table_name FROM information_schema.tables "
                                 f"WHERE table_name = '{table.upper()}_COPY'")


@pytest.fixture
def receiver_target(live, http_receiver):  # noqa: F811
    made = live.post("/api/connections", json={"name": "Receiver", "type": "httpapi", "configuration": {
        "url": f"{http_receiver.url}/hook", "healthcheck": f"{http_receiver.url}/health"}})
    assert made.status_code == 200, made.text
    return made.json()["data"]["id"]


def sync_to(live, target_id, model) -> str:
    body = {"name": f"Rows {uuid.uuid4().hex[:6]}", "mode": "append", "schedule": {"frequency": "manual"},
            "target": {"connection_id": target_id, "object": "endpoint"},
            "fields": [{"source": {"field": "email", "model_id": str(model.pk)}, "target": "email"}]}
    made = live.post("/api/syncs", json=body)
    assert made.status_code == 200, made.text
    return made.json()["data"]["id"]


def test_the_worker_reads_none_of_the_consoles_files(live, e2e, e2e_worker, model_of, receiver_target,  # noqa: F811
                                                   http_receiver, organization, session_key):
    logged_before = len(e2e_worker.log())
    for path in console_files():
        stored = Connection.objects.create(organization=organization, name=f"Old {path.name}", type="sqlite",
                                           configuration={"path": str(path)})
        sessions = model_of(stored, "SELECT session_key AS email FROM django_session", ["email"])
        failed = run_sync(live, sync_to(live, receiver_target, sessions))
        assert failed["status"] == "failed", failed
        assert "outside the console's folder" in failed["errors"][0] and session_key not in str(failed)
    assert not [r for r in http_receiver.requests if r.path == "/hook"]
    worker_log = e2e_worker.log()[logged_before:]
    assert worker_log.count("] received") >= len(console_files()), "the worker ran nothing: this would prove nothing"
    assert session_key not in worker_log


def test_the_worker_runs_no_stored_model_that_writes(live, e2e, connection_of, model_of, warehouse,  # noqa: F811
                                                     receiver_target, http_receiver):
    table = warehouse.copy("users", 5)
    before = warehouse.execute(f"SELECT * FROM {table} ORDER BY 1")
    for query, reason in ((f"DELETE FROM {table}", "Only a SELECT"),
                          (f"SELECT email FROM {table}; DELETE FROM {table}", "2 statements")):
        writing = model_of(connection_of("snowflake"), query, ["email"])
        refused = run_sync(live, sync_to(live, receiver_target, writing))
        assert refused["status"] == "failed" and reason in refused["errors"][0], refused
    assert warehouse.execute(f"SELECT * FROM {table} ORDER BY 1") == before
    assert not [r for r in http_receiver.requests if r.path == "/hook"]


def test_a_bulk_destination_outside_the_folder_is_neither_created_nor_written(
        live, e2e, e2e_worker, organization, worker_files, settings, tmp_path):
    settings.FILE_CONNECTIONS_DIR = str(worker_files)  # the worker's folder
    outside = tmp_path / "written-outside.sqlite3"
    refused = live.post("/api/connections", json=sqlite(outside))
    assert refused.status_code == 400 and refused.json()["metadata"]["errors"][0]["field"] == "configuration.path"

    hubspot = Connection.objects.create(organization=organization, name="HubSpot", type="hubspot",
                                        configuration={"auth_method": "private_app"},
                                        secrets={"private_app_token": "sandbox-api-key"})
    inside, climbing = f"{uuid.uuid4().hex}.sqlite3", f"../{uuid.uuid4().hex}.sqlite3"
    for path, refusal in ((str(outside), "outside the console's folder"), (climbing, "'..'"), (inside, None)):
        destination = Connection.objects.create(organization=organization, name=f"File {path[-12:]}",
                                                type="sqlite", configuration={"path": path})
        sync = live.post("/api/bulk/syncs", json={
            "name": f"Contacts {uuid.uuid4().hex[:6]}", "source_connection_id": str(hubspot.pk),
            "destination_connection_id": str(destination.pk), "destination_configuration": {"schema": "hubspot"},
            "default_schedule": {"frequency": "manual"}, "schemas": ["contacts"]})
        assert sync.status_code == 200, sync.text
        execution = run_sync(live, sync.json()["data"]["id"], syncs="/api/bulk/syncs")
        if refusal:
            assert execution["status"] == "failed" and refusal in execution["status_message"], execution
        else:
            assert execution["status"] == "completed", execution
    assert not outside.exists() and not (worker_files / climbing).exists()
    assert (worker_files / inside).is_file()
