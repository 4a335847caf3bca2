"""A tenant's SQL is one read-only statement, checked in each warehouse's dialect before it is sent."""

import pytest

from integrations.warehouses.base import clean_query
from integrations.warehouses.readonly import QueryRefused, check_read_only

TYPES = ["postgresql", "mysql", "snowflake", "sqlite"]

READS = [
    "SELECT 1",
    "select email, plan from users where plan <> 'free' order by email limit 10",
    "WITH recent AS (SELECT id, email FROM users WHERE id > 3) SELECT email FROM recent",
    "SELECT id FROM users UNION ALL SELECT id FROM salesforce_contacts",
    "SELECT id FROM users EXCEPT SELECT id FROM salesforce_contacts",
    "(SELECT 1 AS x)",
    "-- the plan of every user\nSELECT plan FROM users /* ; DELETE FROM users */",
    "SELECT ';' AS semicolon, 'DROP TABLE users' AS words",
    "SELECT count(*) AS n FROM (SELECT id FROM users) AS inner_rows",
]

WRITES = [
    ("SELECT 1; DROP TABLE users", "2 statements"),
    ("SELECT 1; SELECT 2", "2 statements"),
    ("SELECT 1 /* ; */ ; DELETE FROM users", "2 statements"),
    ("SELECT 1 -- done\n; DELETE FROM users", "2 statements"),
    ("DELETE FROM users", "not DELETE"),
    ("INSERT INTO users (id) VALUES (1)", "not INSERT"),
    ("UPDATE users SET plan = 'free'", "not UPDATE"),
    ("DROP TABLE users", "not DROP"),
    ("CREATE TABLE copied AS SELECT * FROM users", "not CREATE"),
    ("ALTER TABLE users ADD COLUMN x INT", "not ALTER"),
    ("TRUNCATE TABLE users", "not TRUNCATE"),
    ("WITH x AS (SELECT 1) DELETE FROM users", "not DELETE"),
    ("SELECT 1 FROM (SELECT 2", "could not be read"),
]


@pytest.mark.parametrize("type_id", TYPES)
@pytest.mark.parametrize("query", READS)
def test_a_read_passes_in_every_dialect(type_id, query):
    check_read_only(query, type_id)


@pytest.mark.parametrize("type_id", TYPES)
@pytest.mark.parametrize("query, reason", WRITES)
def test_anything_but_one_read_is_refused_in_every_dialect(type_id, query, reason):
    with pytest.raises(QueryRefused, match=reason):
        check_read_only(query, type_id)


@pytest.mark.parametrize("type_id, query, reason", [
    ("postgresql", "SELECT * INTO copied FROM users", "SELECT ... INTO"),
    ("snowflake", "SELECT id INTO :n FROM users", "SELECT ... INTO"),
    ("mysql", "SELECT id INTO @n FROM users", "SELECT ... INTO"),
    ("mysql", "SELECT * FROM users INTO OUTFILE '/tmp/users.csv'", "could not be read"),
    ("postgresql", "SELECT * FROM users FOR UPDATE", "locking clause"),
    ("postgresql", "SELECT * FROM users FOR NO KEY UPDATE", "locking clause"),
    ("postgresql", "SELECT * FROM users FOR SHARE", "locking clause"),
    ("mysql", "SELECT * FROM users FOR UPDATE", "locking clause"),
    ("mysql", "SELECT * FROM users LOCK IN SHARE MODE", "locking clause"),
    ("postgresql", "SELECT (SELECT 1 FOR UPDATE) AS x", "locking clause"),
    ("postgresql", "WITH gone AS (DELETE FROM users RETURNING *) SELECT * FROM gone", "WITH clause"),
    ("postgresql", "WITH added AS (INSERT INTO users (id) VALUES (1) RETURNING id) SELECT id FROM added",
     "WITH clause"),
    ("postgresql", "WITH changed AS (UPDATE users SET plan = 'x' RETURNING id) SELECT id FROM changed",
     "WITH clause"),
    ("postgresql", "SELECT 'it''s\\'; DELETE FROM users; --'", "statements"),
    ("postgresql", "COPY users TO '/tmp/users.csv'", "not COPY"),
    ("postgresql", "EXPLAIN ANALYZE DELETE FROM users", "not EXPLAIN"),
    ("mysql", "SELECT 1 /*!50000 INTO OUTFILE '/tmp/users.csv' */", "executable comments"),
    ("mysql", "SELECT /*M! 1, */ 2", "executable comments"),
    ("mysql", "LOAD DATA INFILE '/etc/passwd' INTO TABLE users", "could not be read"),
    ("sqlite", "ATTACH DATABASE '/tmp/other.db' AS other", "not ATTACH"),
    ("sqlite", "SELECT * FROM users; ATTACH DATABASE 'x' AS y", "2 statements"),
    ("sqlite", "PRAGMA writable_schema = 1", "not PRAGMA"),
    ("sqlite", "VACUUM INTO '/tmp/copy.db'", "not VACUUM"),
    ("snowflake", "PUT file:///etc/passwd @~", "not PUT"),
    ("snowflake", "COPY INTO users FROM @stage", "not COPY"),
    ("snowflake", "ALTER SESSION SET TIMEZONE = 'UTC'", "not ALTER"),
    ("snowflake", "CALL cleanup()", "not CALL"),
    ("snowflake", "BEGIN; DELETE FROM users; COMMIT", "3 statements"),
    ("snowflake", "EXECUTE IMMEDIATE 'DELETE FROM users'", "not EXECUTE"),
])
def test_dialect_specific_writes_are_refused(type_id, query, reason):
    with pytest.raises(QueryRefused, match=reason):
        check_read_only(query, type_id)


@pytest.mark.parametrize("type_id, query", [
    ("postgresql", "SELECT $$ ; DELETE FROM users; $$ AS text"),
    ("postgresql", "SELECT E'a\\'; DELETE FROM users; --' AS text"),
    ("mysql", "SELECT 'a\\'; DELETE FROM users; --' AS text"),
    ("mysql", "SELECT /*+ MAX_EXECUTION_TIME(1000) */ id FROM users"),
    ("snowflake", "SELECT v:a::string AS a FROM t, LATERAL FLATTEN(input => t.v)"),
    ("snowflake", "SELECT * FROM users QUALIFY ROW_NUMBER() OVER (PARTITION BY plan ORDER BY id) = 1"),
    ("sqlite", "SELECT name, type FROM pragma_table_info('users')"),
    ("postgresql", "WITH x(a) AS (VALUES (1), (2)) SELECT a FROM x"),
])
def test_dialect_specific_reads_pass(type_id, query):
    check_read_only(query, type_id)


@pytest.mark.parametrize("type_id", TYPES)
def test_a_query_too_long_or_too_deep_to_check_is_refused_not_crashed_on(type_id):
    with pytest.raises(QueryRefused, match="longer than 100,000 characters"):
        check_read_only("SELECT 1 AS x" + " " * 100_000, type_id)
    with pytest.raises(QueryRefused, match="nested too deeply"):
        check_read_only("SELECT " + "(" * 2000 + "1" + ")" * 2000, type_id)


def test_clean_query_checks_before_it_returns_the_text():
    assert clean_query("  SELECT 1 ;; ", "postgresql") == "SELECT 1"
    with pytest.raises(QueryRefused, match="not DELETE"):
        clean_query("DELETE FROM users;", "snowflake")
