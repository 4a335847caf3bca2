"""PostgreSQL through psycopg 3.

Queries run in read-only transactions. `describe_query` uses a server-side
(named) cursor: DECLARE runs nothing until rows are fetched. `stream` reads the
result as the server sends it, in chunks of rows (libpq 17's chunked mode; one
row at a time with an older libpq): the server keeps producing rows while the
last chunk is processed, and memory stays flat whatever the result's size.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import psycopg
from psycopg.rows import dict_row

from integrations.base import (
    ARRAY,
    BOOLEAN,
    DATE,
    DATETIME,
    INTEGER,
    NUMBER,
    OBJECT,
    STRING,
    Column,
    ConfigField,
    Table,
)
from integrations import egress
from integrations.warehouses.base import CONNECT_SHARE, WarehouseSource, clean_query

TYPE_ID = "postgresql"
NAME = "PostgreSQL"

CONFIG_FIELDS = [
    ConfigField("hostname", "Host", required=True, address="host"),
    ConfigField("port", "Port", type="integer", default=5432),
    ConfigField("database", "Database", required=True),
    ConfigField("username", "Username", required=True),
    ConfigField("password", "Password", secret=True),
    ConfigField("ssl", "Require SSL", type="boolean", default=False,
                description="Refuse to connect without TLS (sslmode=require)."),
]

CONNECT_TIMEOUT = 10  # seconds
CHUNKED_ROWS = psycopg.pq.version() >= 170000

_TYPES = {
    "int2": INTEGER, "int4": INTEGER, "int8": INTEGER, "oid": INTEGER,
    "float4": NUMBER, "float8": NUMBER, "numeric": NUMBER, "money": NUMBER,
    "bool": BOOLEAN,
    "date": DATE,
    "timestamp": DATETIME, "timestamptz": DATETIME,
    "json": OBJECT, "jsonb": OBJECT,
}

_cursor_names = itertools.count(1)


def column_type(conn: psycopg.Connection, oid: int) -> str:
    info = conn.adapters.types.get(oid)
    if info is None:
        return STRING  # enums, domains and other types the client does not know by oid
    if info.array_oid == oid:
        return ARRAY
    return _TYPES.get(info.name, STRING)


class PostgresSource(WarehouseSource):
    TYPE_ID = TYPE_ID
    NAME = NAME
    CONFIG_FIELDS = CONFIG_FIELDS

    def _where(self) -> str:
        c = self.config
        return f"PostgreSQL at {c.get('hostname') or 'localhost'}:{c.get('port') or 5432} " \
               f"(database {c.get('database')!r}, user {c.get('username')!r})"

    def _connect(self):
        c = self.config
        host, port = c.get("hostname") or "localhost", int(c.get("port") or 5432)
        bound = self.seconds_left(CONNECT_SHARE)  # a web request's share for connecting, and for each query
        conn = psycopg.connect(
            host=host,  # kept for TLS; the connection goes to hostaddr, the address the policy checked
            hostaddr=egress.checked_address(host, port),
            port=port,
            dbname=c.get("database") or None,
            user=c.get("username") or None,
            password=c.get("password") or None,
            sslmode="require" if c.get("ssl") else "prefer",
            connect_timeout=CONNECT_TIMEOUT if bound is None else max(2, round(bound)),
            options=None if bound is None else f"-c statement_timeout={round(bound * 1000)}",
            application_name="datasync-source",
        )
        conn.read_only = True
        return conn

    def _ping(self, conn) -> None:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
        conn.rollback()

    def _fail(self, conn, exc: psycopg.Error):
        """Roll back and turn the driver's error into ours."""
        try:
            conn.rollback()
        except psycopg.Error:
            pass
        sqlstate = getattr(exc, "sqlstate", None) or ""
        if conn.closed or (isinstance(exc, psycopg.OperationalError) and sqlstate.startswith("08")):
            self.close()
            return self.connection_error(exc)
        return self.query_error(exc)

    def list_tables(self) -> list[Table]:
        conn = self.connection()
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT table_schema, table_name FROM information_schema.tables "
                    "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
                    "ORDER BY table_schema, table_name"
                )
                tables = [Table(schema, name) for schema, name in cur.fetchall()]
            conn.rollback()
            return tables
        except psycopg.Error as exc:
            raise self._fail(conn, exc) from None

    def describe_query(self, query: str) -> list[Column]:
        query = clean_query(query, TYPE_ID)
        conn = self.connection()
        try:
            with conn.cursor(name=f"describe_{next(_cursor_names)}") as cur:
                cur.execute(query)  # DECLARE: the portal is described, no row is read
                columns = [Column(d.name, column_type(conn, d.type_code)) for d in cur.description or []]
            conn.rollback()
            return columns
        except psycopg.Error as exc:
            raise self._fail(conn, exc) from None

    def stream(self, query: str, batch_size: int = 5000) -> Iterator[list[dict]]:
        query = clean_query(query, TYPE_ID)
        conn = self.connection()
        try:
            with conn.cursor(row_factory=dict_row) as cur:
                rows = cur.stream(query, size=batch_size if CHUNKED_ROWS else 1)
                try:
                    while batch := list(itertools.islice(rows, batch_size)):
                        yield batch
                finally:
                    rows.close()  # cancels the query if the reader stopped early; frees the connection
        except psycopg.Error as exc:
            raise self._fail(conn, exc) from None
        finally:
            if not conn.closed:
                try:
                    conn.rollback()
                except psycopg.Error:
                    pass


Source = PostgresSource
