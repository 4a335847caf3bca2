"""SQLite through the standard library: the embedded demo source.

The file must lie in the folder the operator opened for database files (see
integrations/files.py) and is opened read-only; no connection may attach
another file, load an extension or run a pragma that touches files. SQLite
evaluates lazily, so fetching in batches keeps memory flat. SQLite has no
column types in a query's result, so `describe_query` and `preview` infer
them from the first rows, read in the one run of the query (ISO dates and
timestamps stored as text count as date and datetime); `table_columns`
reads the declared types.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator

from integrations.base import (
    BOOLEAN,
    DATE,
    DATETIME,
    INTEGER,
    NUMBER,
    OBJECT,
    STRING,
    Column,
    ConfigField,
    ConnectionFailed,
    Table,
)
from integrations.files import FILES_OFF, FileRefused
from integrations.warehouses.base import WarehouseSource, clean_query

TYPE_ID = "sqlite"
NAME = "SQLite"
FILE_BACKED = True

CONFIG_FIELDS = [
    ConfigField("path", "Database file", required=True,
                description="Path of the SQLite file, relative to the console's folder for database files; "
                            "opened read-only."),
]

SAMPLE_ROWS = 100  # rows read to infer a query's column types
# Pragmas that only describe the schema; the others (journal_mode, writable_schema, ...) may touch files.
SCHEMA_PRAGMAS = frozenset({"table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
                            "foreign_key_list"})
REFUSED_FUNCTIONS = frozenset({"load_extension", "fts3_tokenizer"})

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


def authorize(action, name, detail, database, trigger) -> int:
    """SQLite's authorizer for every connection to a tenant's file: no other file attached
    (ATTACH, and VACUUM INTO, which attaches), no extension, no pragma beyond the schema's."""
    if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_PRAGMA and (name or "").lower() not in SCHEMA_PRAGMAS:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION and (detail or "").lower() in REFUSED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def declared_type(decl: str) -> str:
    """SQLite's affinity rules, plus the common spellings of dates, times and booleans."""
    d = (decl or "").upper()
    if "BOOL" in d:
        return BOOLEAN
    if "DATETIME" in d or "TIMESTAMP" in d:
        return DATETIME
    if "DATE" in d:
        return DATE
    if "JSON" in d:
        return OBJECT
    if "INT" in d:
        return INTEGER
    if any(k in d for k in ("CHAR", "CLOB", "TEXT")):
        return STRING
    if any(k in d for k in ("REAL", "FLOA", "DOUB", "NUMERIC", "DECIMAL")):
        return NUMBER
    return STRING


def value_type(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, float):
        return NUMBER
    if isinstance(value, str):
        if _DATE.match(value):
            return DATE
        if _DATETIME.match(value):
            return DATETIME
    return STRING


def merge(a: str | None, b: str | None) -> str | None:
    if a is None or a == b:
        return b if a is None else a
    if b is None:
        return a
    if {a, b} == {INTEGER, NUMBER}:
        return NUMBER
    if {a, b} == {DATE, DATETIME}:
        return DATETIME
    return STRING


class SQLiteSource(WarehouseSource):
    TYPE_ID = TYPE_ID
    NAME = NAME
    CONFIG_FIELDS = CONFIG_FIELDS

    def _where(self) -> str:
        return f"the SQLite file {self.config.get('path')!r}"

    def database_file(self):
        """The real path of the configured file, inside the folder the console allows."""
        if self.files is None:
            raise FileRefused(FILES_OFF)
        return self.files.resolve(self.config.get("path"))

    def _connect(self):
        path = self.database_file()
        if not path.is_file():
            raise ConnectionFailed(f"The SQLite file {self.config.get('path')!r} does not exist.")
        conn = sqlite3.connect(path.as_uri() + "?mode=ro", uri=True, check_same_thread=False)
        conn.set_authorizer(authorize)
        if self.deadline is not None:  # a web request: a query still running at the deadline is interrupted
            conn.set_progress_handler(lambda: time.monotonic() > self.deadline, 10_000)
        return conn

    def _ping(self, conn) -> None:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()

    def table_query(self, table: Table) -> str:
        return "SELECT * FROM " + self.quote(table.name)

    def list_tables(self) -> list[Table]:
        rows = self._run(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
        return [Table("", name) for (name,) in rows]

    def table_columns(self, table: Table) -> list[Column]:
        rows = self._run(f"SELECT name, type FROM pragma_table_info({self.quote_literal(table.name)})")
        if not rows:
            return super().table_columns(table)  # raises the warehouse's "no such table"
        return [Column(name, declared_type(decl)) for name, decl in rows]

    def describe_query(self, query: str) -> list[Column]:
        columns, _ = self.preview(query, 0)
        return columns

    def preview(self, query: str, limit: int = 20) -> tuple[list[Column], list[dict]]:
        """One run of the query: its columns, typed from the first rows, and the first `limit` rows."""
        query = clean_query(query, TYPE_ID)
        conn = self.connection()
        try:
            cur = conn.execute(query)
            names = [d[0] for d in cur.description or []]
            rows = cur.fetchmany(max(limit, SAMPLE_ROWS))
            cur.close()
        except sqlite3.Error as exc:
            raise self._fail(exc) from None
        types: list[str | None] = [None] * len(names)
        for row in rows:
            types = [merge(t, value_type(v)) for t, v in zip(types, row)]
        columns = [Column(n, t or STRING) for n, t in zip(names, types)]
        return columns, [dict(zip(names, row)) for row in rows[:max(limit, 0)]]

    def stream(self, query: str, batch_size: int = 5000) -> Iterator[list[dict]]:
        query = clean_query(query, TYPE_ID)
        conn = self.connection()
        cur = None
        try:
            cur = conn.execute(query)
            names = [d[0] for d in cur.description or []]
            while rows := cur.fetchmany(batch_size):
                yield [dict(zip(names, row)) for row in rows]
        except sqlite3.Error as exc:
            raise self._fail(exc) from None
        finally:
            if cur is not None:
                cur.close()

    def _run(self, sql: str) -> list[tuple]:
        try:
            return self.connection().execute(sql).fetchall()
        except sqlite3.Error as exc:
            raise self._fail(exc) from None

    def _fail(self, exc: sqlite3.Error):
        if isinstance(exc, sqlite3.OperationalError) and "unable to open" in str(exc):
            return self.connection_error(exc)
        return self.query_error(exc)

    @staticmethod
    def quote_literal(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"


Source = SQLiteSource
