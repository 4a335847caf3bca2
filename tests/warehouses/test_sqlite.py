"""SQLiteSource: the embedded demo source."""

import sqlite3
from pathlib import Path

import pytest

from integrations.base import Column, ConnectionFailed, QueryError, Table
from integrations.files import FileRoot
from integrations.warehouses.sqlite import SQLiteSource
from tests.warehouses.conftest import ROWS


@pytest.fixture
def source(sqlite_path):
    with SQLiteSource({"path": Path(sqlite_path).name}, files=FileRoot(Path(sqlite_path).parent)) as source:
        yield source


def test_check_and_list_tables(source):
    source.check()
    assert source.list_tables() == [Table("", "salesforce_contacts"), Table("", "users")]
    assert source.table_query(Table("", "users")) == 'SELECT * FROM "users"'


def test_table_columns_use_declared_types(source):
    types = {c.name: c.type for c in source.table_columns(Table("", "users"))}
    assert types["id"] == "integer"
    assert types["email"] == "string"
    assert types["last_activity_date"] == "date"
    assert types["created_at"] == "datetime"
    assert types["mrr"] == "number"
    assert types["is_active"] == "boolean"
    with pytest.raises(QueryError, match="no such table"):
        source.table_columns(Table("", "nope"))


def test_describe_query_infers_types_from_the_first_rows(source):
    columns = source.describe_query(
        "SELECT MAX(last_activity_date) AS last_activity_date, plan, first_name, last_name, email, "
        "MAX(created_at) AS created_at, SUM(mrr) AS mrr, COUNT(*) AS n FROM users "
        "GROUP BY plan, first_name, last_name, email")
    assert [(c.name, c.type) for c in columns] == [
        ("last_activity_date", "date"), ("plan", "string"), ("first_name", "string"),
        ("last_name", "string"), ("email", "string"), ("created_at", "datetime"), ("mrr", "number"),
        ("n", "integer")]
    assert source.describe_query("SELECT email FROM users WHERE 0") == [Column("email", "string")]


def test_preview_and_stream(source):
    columns, rows = source.preview("SELECT id, email, crm_contact_id FROM users ORDER BY id;", limit=2)
    assert [c.name for c in columns] == ["id", "email", "crm_contact_id"]
    assert [r["id"] for r in rows] == [1, 2] and rows[0]["crm_contact_id"] == "0035g00000SBX001AA"
    batches = list(source.stream("SELECT * FROM salesforce_contacts", batch_size=900))
    assert [len(b) for b in batches] == [900, 900, 200]
    assert sorted(r["id"] for b in batches for r in b) == list(range(1, ROWS + 1))


def test_query_errors_carry_sqlites_text(source):
    with pytest.raises(QueryError, match="no such column: gold"):
        source.preview("SELECT contact_id FROM salesforce_contacts WHERE subscription_plan = gold")
    with pytest.raises(QueryError, match="empty"):
        source.preview("  ;  ")


def test_the_file_is_opened_read_only(source):
    with pytest.raises(QueryError, match="Only a SELECT"):
        list(source.stream("DELETE FROM users"))
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        source.connection().execute("DELETE FROM users")
    assert source.preview("SELECT count(*) AS n FROM users")[1] == [{"n": ROWS}]


def test_a_missing_or_foreign_file_is_connection_failed(tmp_path):
    with pytest.raises(ConnectionFailed, match="does not exist"):
        SQLiteSource({"path": "missing.sqlite3"}, files=FileRoot(tmp_path)).check()
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ConnectionFailed, match="not a database"):
        SQLiteSource({"path": "junk.sqlite3"}, files=FileRoot(tmp_path)).check()


def test_works_from_another_thread(source):
    import threading

    source.check()
    out = []
    thread = threading.Thread(target=lambda: out.append(source.preview("SELECT 1 AS x")[1]))
    thread.start()
    thread.join()
    assert out == [[{"x": 1}]]
    assert isinstance(source.connection(), sqlite3.Connection)
