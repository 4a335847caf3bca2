"""SQLite through the standard library: the embedded demo source.

The file is opened read-only. SQLite evaluates lazily, so fetching in
batches keeps memory flat. SQLite has no column types in a query's result,
so `describe_query` infers them from the first rows (ISO dates and
timestamps stored as text count as date and datetime); `table_columns` reads
the declared types.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

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
from integrations.warehouses.base import WarehouseSource, clean_query

TYPE_ID = "sqlite"
NAME = "SQLite"

CONFIG_FIELDS = [
    ConfigField("path", "Database file", required=True,
                description="Path of the SQLite file on the console's machine; opened read-only."),
]

SAMPLE_ROWS = 100  # rows read to infer a query's column types

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


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

    def _connect(self):
        path = self.config.get("path")
        if not path:
            raise ConnectionFailed("No SQLite file is configured (path).")
        if not os.path.isfile(path):
            raise ConnectionFailed(f"The SQLite file {path!r} does not exist.")
        uri = Path(path).resolve().as_uri() + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
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
        query = clean_query(query)
        conn = self.connection()
        try:
            cur = conn.execute(query)
            names = [d[0] for d in cur.description or []]
            types: list[str | None] = [None] * len(names)
            for row in cur.fetchmany(SAMPLE_ROWS):
                types = [merge(t, value_type(v)) for t, v in zip(types, row)]
            cur.close()
        except sqlite3.Error as exc:
            raise self._fail(exc) from None
        return [Column(n, t or STRING) for n, t in zip(names, types)]

    def stream(self, query: str, batch_size: int = 5000) -> Iterator[list[dict]]:
        query = clean_query(query)
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
