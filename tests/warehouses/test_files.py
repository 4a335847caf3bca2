"""SQLite connections open files only inside the folder the operator allows, never the
console's own, and can neither attach other files nor load extensions."""

import sqlite3

import pytest

from integrations.base import STRING, Column, ConnectionFailed, QueryError
from integrations.files import FILES_OFF, FileRefused, FileRoot
from integrations.warehouses.destinations import get_destination
from integrations.warehouses.sqlite import SQLiteSource


@pytest.fixture
def place(tmp_path):
    """var/ (the console's: its database, keys, logs), files/ (the tenants'), and a file outside both."""
    var, files, outside = tmp_path / "var", tmp_path / "files", tmp_path / "outside"
    for folder in (var, files, outside):
        folder.mkdir()
    for name in ("console.sqlite3", "secret_key", "encryption_keys", "web.log"):
        make_database(var / name)
    make_database(files / "tenant.sqlite3")
    make_database(outside / "other.sqlite3")
    return var, files, outside


def make_database(path):
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE rows (secret TEXT)")
        db.execute("INSERT INTO rows VALUES ('not yours')")
    return path


def root_of(var, files):
    return FileRoot(files, protected_files=(var / "console.sqlite3",), protected_folders=(var,))


def test_a_path_inside_the_folder_resolves_to_its_real_file(place):
    var, files, _ = place
    (files / "nested").mkdir()
    root = root_of(var, files)
    assert root.resolve("tenant.sqlite3") == (files / "tenant.sqlite3").resolve()
    assert root.resolve("./nested/new.sqlite3") == (files / "nested" / "new.sqlite3").resolve()
    assert root.resolve(str(files / "tenant.sqlite3")) == (files / "tenant.sqlite3").resolve()


@pytest.mark.parametrize("path, reason", [
    ("../outside/other.sqlite3", "'..'"),
    ("nested/../../outside/other.sqlite3", "'..'"),
    ("..", "'..'"),
    ("", "No database file"),
    ("   ", "No database file"),
    ("tenant\x00.sqlite3", "NUL"),
    (".", "outside the console's folder"),
])
def test_paths_that_climb_or_say_nothing_are_refused(place, path, reason):
    var, files, _ = place
    with pytest.raises(FileRefused, match=reason):
        root_of(var, files).resolve(path)


def test_an_absolute_path_outside_the_folder_is_refused(place):
    var, files, outside = place
    for path in (outside / "other.sqlite3", var / "console.sqlite3", "/etc/passwd", "/proc/self/environ"):
        with pytest.raises(FileRefused, match="outside the console's folder"):
            root_of(var, files).resolve(str(path))


def test_a_symlink_that_leads_out_is_refused(place):
    var, files, outside = place
    (files / "link.sqlite3").symlink_to(outside / "other.sqlite3")
    (files / "linked-folder").symlink_to(outside)
    (files / "console-link").symlink_to(var / "console.sqlite3")
    root = root_of(var, files)
    for path in ("link.sqlite3", "linked-folder/other.sqlite3", "linked-folder/new.sqlite3", "console-link"):
        with pytest.raises(FileRefused, match="outside the console's folder"):
            root.resolve(path)


def test_the_consoles_own_files_are_refused_even_inside_the_folder(place):
    var, _, _ = place
    root = root_of(var, var)  # an operator pointed the folder at var/ itself
    for path in ("console.sqlite3", "console.sqlite3-wal", "console.sqlite3-journal", "secret_key",
                 "encryption_keys", "web.log", "worker.log"):
        with pytest.raises(FileRefused, match="console's own files"):
            root.resolve(path)
    (var / "tenants").mkdir()
    assert root.resolve("tenants/mine.sqlite3") == (var / "tenants" / "mine.sqlite3").resolve()


def test_the_consoles_database_is_refused_wherever_it_is_and_by_any_name(place):
    var, files, _ = place
    database = make_database(files / "console-db.sqlite3")
    (files / "hard-link.sqlite3").hardlink_to(database)
    root = FileRoot(files, protected_files=(database,), protected_folders=(var,))
    for path in ("console-db.sqlite3", "console-db.sqlite3-shm", "hard-link.sqlite3"):
        with pytest.raises(FileRefused, match="console's own files"):
            root.resolve(path)


def test_without_a_folder_a_sqlite_source_opens_nothing(place):
    var, files, _ = place
    source = SQLiteSource({"path": str(files / "tenant.sqlite3")})
    with pytest.raises(ConnectionFailed, match="FILE_CONNECTIONS_DIR") as refused:
        source.check()
    assert str(refused.value) == FILES_OFF
    with pytest.raises(ConnectionFailed, match="FILE_CONNECTIONS_DIR"):
        get_destination("sqlite", {"path": "tenant.sqlite3"}).prepare("Contact", [Column("Id", STRING)], key="Id")


@pytest.mark.parametrize("path", ["../var/console.sqlite3", "../outside/other.sqlite3", "link.sqlite3"])
def test_a_source_refuses_a_file_outside_before_opening_it(place, path):
    var, files, outside = place
    (files / "link.sqlite3").symlink_to(var / "console.sqlite3")
    with pytest.raises(FileRefused):
        SQLiteSource({"path": path}, files=root_of(var, files)).check()


def test_a_destination_neither_creates_nor_writes_a_file_outside(place):
    var, files, outside = place
    root = root_of(var, files)
    for path in ("../outside/new.sqlite3", str(outside / "new.sqlite3"), "../var/secret_key", str(var / "web.log")):
        destination = get_destination("sqlite", {"path": path}, files=root)
        with pytest.raises(FileRefused):
            destination.prepare("Contact", [Column("Id", STRING)], key="Id")
    assert sorted(p.name for p in outside.iterdir()) == ["other.sqlite3"]
    assert sorted(p.name for p in var.iterdir()) == ["console.sqlite3", "encryption_keys", "secret_key", "web.log"]
    destination = get_destination("sqlite", {"path": "made/here.sqlite3"}, files=root)
    table = destination.prepare("Contact", [Column("Id", STRING)], key="Id")
    destination.write(table, [{"Id": "1"}])
    destination.close()
    assert (files / "made" / "here.sqlite3").is_file()


@pytest.fixture
def tenant_source(place):
    var, files, _ = place
    with SQLiteSource({"path": "tenant.sqlite3"}, files=root_of(var, files)) as source:
        yield source


@pytest.mark.parametrize("statement", [
    "ATTACH DATABASE '{outside}/other.sqlite3' AS other",
    "ATTACH DATABASE '{var}/console.sqlite3' AS console",
    "VACUUM INTO '{outside}/copy.sqlite3'",
    "PRAGMA journal_mode = WAL",
    "PRAGMA writable_schema = ON",
    "SELECT load_extension('/tmp/evil.so')",
])
def test_a_connection_to_a_tenants_file_cannot_reach_another_file(place, tenant_source, statement):
    var, _, outside = place
    with pytest.raises(sqlite3.DatabaseError, match="not authorized|authorization denied"):
        tenant_source.connection().execute(statement.format(var=var, outside=outside))
    assert sorted(p.name for p in outside.iterdir()) == ["other.sqlite3"]


def test_the_schema_pragmas_the_source_reads_still_work(tenant_source):
    assert [c.name for c in tenant_source.table_columns(tenant_source.list_tables()[0])] == ["secret"]
    assert tenant_source.connection().execute("PRAGMA table_info(rows)").fetchall()[0][1] == "secret"


def test_an_attach_in_a_model_query_is_refused_before_it_is_sent(tenant_source):
    with pytest.raises(QueryError, match="not ATTACH"):
        tenant_source.preview("ATTACH DATABASE 'x.sqlite3' AS x")
    with pytest.raises(QueryError, match="2 statements"):
        tenant_source.preview("SELECT 1; ATTACH DATABASE 'x.sqlite3' AS x")


def test_a_destination_cannot_attach_either(place):
    var, files, outside = place
    destination = get_destination("sqlite", {"path": "tenant.sqlite3"}, files=root_of(var, files))
    with pytest.raises(QueryError, match="not authorized"):
        destination.execute([f"ATTACH DATABASE '{outside}/new.sqlite3' AS other"])
    destination.close()
    assert sorted(p.name for p in outside.iterdir()) == ["other.sqlite3"]
