"""SQLite connections (files on the console's machine) exist only when the operator sets
FILE_CONNECTIONS_DIR, and then only for files inside it that are not the console's own."""

import json

import pytest
from django.db import connection as database

from console.connections.models import Connection, ConnectionStatus
from console.connections.services import check_connection
from integrations.files import FILES_OFF

pytestmark = pytest.mark.django_db


def post(api, path, body):
    return api.post(path, json.dumps(body), content_type="application/json")


def sqlite_body(path):
    return {"name": "Local file", "type": "sqlite", "configuration": {"path": path}}


def test_without_the_setting_sqlite_is_not_offered(api, console, settings):
    settings.FILE_CONNECTIONS_DIR = ""
    ids = {kind["id"] for kind in api.get("/api/connection_types").json()["data"]}
    assert "sqlite" not in ids and {"snowflake", "postgresql", "mysql"} <= ids
    schema = api.get("/api/connection_types/sqlite")
    assert schema.status_code == 404 and schema.json()["message"] == FILES_OFF
    page = console.get("/connections/new").content.decode()
    assert "/connections/new/sqlite" not in page and "/connections/new/postgresql" in page
    form = console.get("/connections/new/sqlite", follow=True)
    assert FILES_OFF in form.content.decode()


@pytest.mark.parametrize("path", ["/api/connections", "/api/connections/test"])
def test_without_the_setting_naming_sqlite_is_a_400_that_says_why(api, settings, tmp_path, path):
    settings.FILE_CONNECTIONS_DIR = ""
    response = post(api, path, sqlite_body(str(tmp_path / "any.sqlite3")))
    assert response.status_code == 400
    assert response.json()["message"] == f"type: {FILES_OFF}"
    assert response.json()["metadata"]["errors"] == [{"field": "type", "message": FILES_OFF}]
    assert not Connection.objects.exists()


def test_a_stored_sqlite_connection_fails_its_check_with_the_reason_once_files_are_off(
        api, organization, file_folder, settings):
    stored = Connection.objects.create(organization=organization, name="Kept", type="sqlite",
                                       configuration={"path": "tenant.sqlite3"})
    assert check_connection(stored).status == ConnectionStatus.HEALTHY
    settings.FILE_CONNECTIONS_DIR = ""
    checked = check_connection(stored)
    assert (checked.status, checked.status_message) == (ConnectionStatus.UNHEALTHY, FILES_OFF)
    preview = post(api, "/api/model-preview", {"name": "p", "connection_id": str(stored.pk),
                                               "configuration": {"query": "SELECT email FROM people"}})
    assert preview.status_code == 400 and FILES_OFF in preview.json()["message"]
    assert api.get(f"/api/connections/{stored.pk}").status_code == 200


def test_with_the_setting_sqlite_is_offered_and_a_file_inside_works(api, file_folder):
    assert "sqlite" in {kind["id"] for kind in api.get("/api/connection_types").json()["data"]}
    response = post(api, "/api/connections", sqlite_body("tenant.sqlite3"))
    assert response.status_code == 200, response.content
    assert response.json()["data"]["status"] == "healthy"


@pytest.mark.parametrize("path, reason", [
    ("../outside.sqlite3", "'..'"),
    ("/etc/passwd", "outside the console's folder"),
    ("link.sqlite3", "outside the console's folder"),
])
def test_a_path_that_leaves_the_folder_is_a_400_on_the_path_field(api, file_folder, tmp_path, path, reason):
    (tmp_path / "outside.sqlite3").write_bytes(b"")
    (file_folder / "link.sqlite3").symlink_to(tmp_path / "outside.sqlite3")
    for validate in (True, False):
        response = post(api, "/api/connections", {**sqlite_body(path), "validate": validate})
        assert response.status_code == 400, response.content
        [error] = response.json()["metadata"]["errors"]
        assert error["field"] == "configuration.path" and reason in error["message"]
    assert not Connection.objects.exists()


def console_files(settings) -> list[str]:
    names = ["secret_key", "encryption_keys", "web.log"]
    if database.vendor == "sqlite":  # the test database is a file beside them
        names.append(str(database.settings_dict["NAME"]))
    return names


def test_the_consoles_own_files_are_refused_even_when_the_folder_is_var(api, settings):
    settings.FILE_CONNECTIONS_DIR = str(settings.VAR_DIR)
    for path in console_files(settings):
        response = post(api, "/api/connections", sqlite_body(path))
        assert response.status_code == 400, (path, response.content)
        assert "console's own files" in response.json()["message"]
    assert not Connection.objects.exists()
