"""MySQLSource against a throwaway MariaDB (skipped without PyMySQL or mariadb-server)."""

import datetime
from decimal import Decimal

import pytest

from integrations.base import Column, ConnectionFailed, QueryError, Table
from integrations.warehouses.mysql import MySQLSource
from tests.warehouses.conftest import MYSQL_PASSWORD, ROWS


@pytest.fixture
def source(mysql_config):
    with MySQLSource(mysql_config) as source:
        yield source


def test_check_and_list_tables(source):
    source.check()
    assert source.list_tables() == [Table("demo", "salesforce_contacts"), Table("demo", "users")]
    assert source.table_query(Table("demo", "users")) == "SELECT * FROM `demo`.`users`"


def test_table_columns_and_describe(source):
    types = {c.name: c.type for c in source.table_columns(Table("demo", "users"))}
    assert types["id"] == "integer"
    assert types["email"] == "string"
    assert types["last_activity_date"] == "date"
    assert types["created_at"] == "datetime"
    assert types["mrr"] == "number"
    assert types["is_active"] == "boolean"
    columns = source.describe_query(
        "SELECT MAX(last_activity_date) AS last_activity_date, plan, first_name, last_name, email "
        "FROM users GROUP BY plan, first_name, last_name, email")
    assert columns == [Column("last_activity_date", "date"), Column("plan", "string"),
                       Column("first_name", "string"), Column("last_name", "string"), Column("email", "string")]


def test_preview_and_stream(source):
    columns, rows = source.preview("SELECT * FROM users ORDER BY id;", limit=3)
    assert [r["id"] for r in rows] == [1, 2, 3]
    assert isinstance(rows[0]["mrr"], Decimal) and isinstance(rows[0]["last_activity_date"], datetime.date)
    batches = list(source.stream("SELECT * FROM salesforce_contacts", batch_size=800))
    assert [len(b) for b in batches] == [800, 800, 400]
    assert sorted(r["id"] for b in batches for r in b) == list(range(1, ROWS + 1))


def test_a_stream_stopped_early_does_not_read_the_rest(source):
    stream = source.stream("SELECT * FROM users", batch_size=10)
    assert len(next(stream)) == 10
    stream.close()
    assert source.preview("SELECT count(*) AS n FROM users")[1] == [{"n": ROWS}]  # reconnects


def test_query_errors_and_read_only(source):
    with pytest.raises(QueryError, match="1054: Unknown column 'gold'"):
        source.preview("SELECT contact_id FROM salesforce_contacts WHERE subscription_plan = gold")
    with pytest.raises(QueryError, match="Only a SELECT"):
        list(source.stream("DELETE FROM users"))
    import pymysql

    with source.connection().cursor() as cursor, pytest.raises(pymysql.Error, match="READ ONLY"):
        cursor.execute("DELETE FROM users")  # the session itself only reads


def test_wrong_password_and_unreachable_host(mysql_config, closed_port):
    with pytest.raises(ConnectionFailed, match="Access denied") as caught:
        MySQLSource(dict(mysql_config, password="Wrong-Pass-0042")).check()
    assert "Wrong-Pass-0042" not in str(caught.value)
    with pytest.raises(ConnectionFailed) as caught:
        MySQLSource(dict(mysql_config, port=closed_port)).check()
    assert MYSQL_PASSWORD not in str(caught.value)
    assert f"127.0.0.1:{closed_port}" in str(caught.value)
