"""PostgresSource against a real PostgreSQL (a scratch database or a throwaway cluster)."""

import datetime
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from integrations.base import Column, ConnectionFailed, QueryError, Table
from integrations.warehouses.postgresql import PostgresSource
from tests.warehouses.conftest import BULK_ROWS, ROWS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def source(postgres_config):
    with PostgresSource(postgres_config) as source:
        yield source


def test_check_and_list_tables(source):
    source.check()
    tables = source.list_tables()
    assert Table("public", "users") in tables
    assert Table("public", "salesforce_contacts") in tables
    assert Table("bulk", "users") in tables


def test_table_columns(source):
    columns = source.table_columns(Table("public", "users"))
    assert columns[:4] == [Column("id", "integer"), Column("first_name", "string"),
                           Column("last_name", "string"), Column("email", "string")]
    types = {c.name: c.type for c in columns}
    assert types["last_activity_date"] == "date"
    assert types["created_at"] == "datetime"
    assert types["mrr"] == "number"
    assert types["is_active"] == "boolean"


def test_describe_query_maps_types_without_reading_rows(source):
    columns = source.describe_query(
        "SELECT 1::int AS i, 2::bigint AS b, 1.5::float8 AS f, 2.50::numeric AS n, true AS t, "
        "current_date AS d, now() AS ts, localtimestamp AS lts, '{\"a\": 1}'::jsonb AS j, "
        "ARRAY[1, 2] AS arr, 'x'::text AS s, gen_random_uuid() AS u"
    )
    assert [(c.name, c.type) for c in columns] == [
        ("i", "integer"), ("b", "integer"), ("f", "number"), ("n", "number"), ("t", "boolean"),
        ("d", "date"), ("ts", "datetime"), ("lts", "datetime"), ("j", "object"), ("arr", "array"),
        ("s", "string"), ("u", "string")]
    # DECLARE does not run the query: a division by zero in the rows is not reached
    assert source.describe_query("SELECT 1 / (id - id) AS boom FROM users") == [Column("boom", "integer")]


def test_preview(source):
    columns, rows = source.preview("SELECT * FROM users ORDER BY id;", limit=3)
    assert [r["id"] for r in rows] == [1, 2, 3]
    assert columns[0] == Column("id", "integer")
    row = rows[0]
    assert isinstance(row["mrr"], Decimal) and isinstance(row["is_active"], bool)
    assert isinstance(row["last_activity_date"], datetime.date)
    assert row["crm_contact_id"] == "0035g00000SBX001AA"
    columns, rows = source.preview("SELECT email FROM users WHERE false")
    assert columns == [Column("email", "string")] and rows == []


def test_seed_queries(source):
    _, rows = source.preview("SELECT contact_id FROM salesforce_contacts WHERE subscription_plan = 'gold'", 100)
    assert rows and all(r["contact_id"].startswith("003") for r in rows)
    with pytest.raises(QueryError, match='column "gold" does not exist'):
        source.preview("SELECT contact_id FROM salesforce_contacts WHERE subscription_plan = gold")
    source.check()  # the failed query left the connection usable


def test_stream_in_batches(source):
    batches = list(source.stream(source.table_query(Table("public", "salesforce_contacts")), batch_size=700))
    assert [len(b) for b in batches] == [700, 700, 600]
    assert sorted(r["id"] for b in batches for r in b) == list(range(1, ROWS + 1))
    assert source.table_query(Table("public", "salesforce_contacts")) == 'SELECT * FROM "public"."salesforce_contacts"'


def test_a_stream_stopped_early_leaves_the_connection_usable(source):
    stream = source.stream("SELECT * FROM bulk.users", batch_size=100)
    assert len(next(stream)) == 100
    stream.close()
    assert source.preview("SELECT count(*) AS n FROM users")[1] == [{"n": ROWS}]


def test_queries_are_read_only(source):
    with pytest.raises(QueryError, match="locking clause"):
        list(source.stream("SELECT id FROM users FOR UPDATE"))
    with pytest.raises(QueryError, match="Only a SELECT"):
        list(source.stream("DELETE FROM users"))
    with pytest.raises(QueryError, match="2 statements"):  # one statement, no smuggled second
        list(source.stream("SELECT 1; DELETE FROM users"))
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):  # and the session itself only reads
        source.connection().execute("DELETE FROM users")
    source.connection().rollback()
    assert source.preview("SELECT count(*) AS n FROM users")[1] == [{"n": ROWS}]


STREAM_SCRIPT = """
import json, sys
from integrations.warehouses.postgresql import PostgresSource

def peak_kb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

source = PostgresSource(json.loads(sys.argv[1]))
source.check()
before, rows = peak_kb(), 0
for batch in source.stream("SELECT * FROM bulk.users", batch_size=2000):
    rows += len(batch)
print(json.dumps({"rows": rows, "before_kb": before, "after_kb": peak_kb()}))
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc (Linux) to read peak RSS")
def test_streaming_keeps_memory_bounded(postgres_config):
    """Streaming 200,000 rows raises the process's peak RSS by a few MB, not by the result's size."""
    result = subprocess.run(
        [sys.executable, "-c", STREAM_SCRIPT, json.dumps(postgres_config)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, PYTHONPATH=str(ROOT),
                 EGRESS_ALLOW=f"{postgres_config['hostname']}:{postgres_config['port']}"),
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["rows"] == BULK_ROWS
    growth_mb = (figures["after_kb"] - figures["before_kb"]) / 1024
    # the whole result as dicts would take several hundred MB
    assert growth_mb < 40, f"peak RSS grew by {growth_mb:.1f} MB while streaming"


def test_unreachable_host_is_connection_failed_without_the_password(closed_port):
    source = PostgresSource({"hostname": "127.0.0.1", "port": closed_port, "database": "d",
                             "username": "u", "password": "Pg-Secret-9931"})
    with pytest.raises(ConnectionFailed) as caught:
        source.check()
    message = str(caught.value)
    assert "Pg-Secret-9931" not in message
    assert f"127.0.0.1:{closed_port}" in message


def test_a_driver_message_never_carries_the_password():
    source = PostgresSource({"hostname": "h", "database": "d", "username": "u", "password": "s3cr3t-pw"})
    assert source.scrub('connection failed: password "s3cr3t-pw" rejected') == \
        'connection failed: password "********" rejected'
    assert "s3cr3t-pw" not in str(source.query_error(Exception("bad s3cr3t-pw")))
