"""What every warehouse source does, and the helpers they share.

A source takes a plain configuration dict (secrets already decrypted) and
talks to one warehouse through its Python driver. It never reads a whole
result into memory: `stream` yields batches as the warehouse sends them,
`describe_query` asks for the columns without reading rows, and `preview`
reads only the first few rows.

Errors come out as the shared vocabulary: `ConnectionFailed` when the
warehouse cannot be reached or refuses the credentials, `QueryError` carrying
the warehouse's own text when it rejects a query. Neither ever contains a
secret from the configuration.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from integrations.base import (
    ARRAY,
    OBJECT,
    Column,
    ConfigField,
    ConnectionFailed,
    ConnectorError,
    QueryError,
    Table,
)
from integrations.files import FileRoot
from integrations.warehouses.readonly import check_read_only

__all__ = ["WarehouseSource", "clean_query", "ConnectionFailed", "QueryError", "ConnectorError"]

CONNECT_SHARE = 0.5  # of the time a bounded call has, what connecting may use (the rest is for queries)


def clean_query(query: str, type_id: str) -> str:
    """The query without surrounding blanks and trailing semicolons (they break wrapping and
    cursors), once it is known to be one read-only statement in the dialect of `type_id`.
    Every source passes a tenant's SQL through here before sending it."""
    text = (query or "").strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    if not text:
        raise QueryError("The query is empty.")
    check_read_only(text, type_id)
    return text


def parse_json_value(value):
    """Drivers hand JSON columns back as text; give the engine the structure."""
    if isinstance(value, (str, bytes)):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class WarehouseSource:
    """One connection to one warehouse. Connects lazily; use as a context manager or call close()."""

    TYPE_ID = ""
    NAME = ""
    CONFIG_FIELDS: list[ConfigField] = []

    def __init__(self, config: dict, *, endpoint: str | None = None, files: FileRoot | None = None,
                 deadline: float | None = None):
        self.config = dict(config or {})
        self.endpoint = endpoint
        self.files = files  # where file-backed sources may open files; None: nowhere
        self.deadline = deadline  # time.monotonic() by which a web request's call ends; None in workers
        self._conn = None

    # ---- what each dialect provides -------------------------------------------

    def _connect(self):
        """Open and return the driver's connection; let the driver's exception through."""
        raise NotImplementedError

    def _disconnect(self, conn) -> None:
        conn.close()

    def _ping(self, conn) -> None:
        """A trivial round trip (SELECT 1) proving the session works."""
        raise NotImplementedError

    def _where(self) -> str:
        """Where the warehouse is, for error messages (never a secret)."""
        return self.NAME

    def list_tables(self) -> list[Table]:
        raise NotImplementedError

    def describe_query(self, query: str) -> list[Column]:
        raise NotImplementedError

    def stream(self, query: str, batch_size: int = 5000) -> Iterator[list[dict]]:
        raise NotImplementedError

    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    # ---- shared behaviour -----------------------------------------------------

    def connection(self):
        """The open driver connection, connecting on first use."""
        if self._conn is None:
            started = time.monotonic()
            try:
                self._conn = self._connect()
            except ConnectorError:
                raise
            except Exception as exc:  # every driver has its own exception tree
                raise ConnectionFailed(self.scrub(
                    f"Could not connect to {self._where()}: {self.timed_out(started)}{describe_exception(exc)}"
                )) from None
        return self._conn

    def seconds_left(self, share: float = 1.0) -> float | None:
        """That share of the time left before the deadline (at least a second), or None without one."""
        if self.deadline is None:
            return None
        return max(1.0, (self.deadline - time.monotonic()) * share)

    def timed_out(self, started: float) -> str:
        """"no answer within N s: " when a bounded connect failed for using up its time, else ""."""
        if self.deadline is None:
            return ""
        elapsed = time.monotonic() - started
        if elapsed < 0.5 * max(1.0, (self.deadline - started) * CONNECT_SHARE):
            return ""
        return f"no answer within {elapsed:.0f} s: "

    def check(self) -> None:
        conn = self.connection()
        try:
            self._ping(conn)
        except ConnectorError:
            raise
        except Exception as exc:
            raise ConnectionFailed(
                self.scrub(f"Connected to {self._where()}, but a test query failed: {describe_exception(exc)}")
            ) from None

    def table_query(self, table: Table) -> str:
        parts = [table.schema, table.name] if table.schema else [table.name]
        return "SELECT * FROM " + ".".join(self.quote(p) for p in parts)

    def table_columns(self, table: Table) -> list[Column]:
        return self.describe_query(self.table_query(table))

    def preview(self, query: str, limit: int = 20) -> tuple[list[Column], list[dict]]:
        columns = self.describe_query(query)
        rows: list[dict] = []
        if limit > 0:
            batches = self.stream(query, batch_size=limit)
            try:
                rows = next(batches, [])[:limit]
            finally:
                batches.close()
        return columns, rows

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                self._disconnect(conn)
            except Exception:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # ---- secrets and errors ---------------------------------------------------

    def secret_values(self) -> list[str]:
        names = {f.name for f in self.CONFIG_FIELDS if f.secret} | {"password"}
        values = [str(self.config[n]) for n in names if self.config.get(n)]
        return sorted(values, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        """The text with every configured secret replaced, whatever the driver put in it."""
        for value in self.secret_values():
            text = text.replace(value, "********")
        return text

    def query_error(self, exc: Exception) -> QueryError:
        return QueryError(self.scrub(describe_exception(exc)))

    def connection_error(self, exc: Exception) -> ConnectionFailed:
        return ConnectionFailed(self.scrub(f"Lost the connection to {self._where()}: {describe_exception(exc)}"))


def describe_exception(exc: Exception) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


def json_columns(columns: list[Column]) -> list[str]:
    return [c.name for c in columns if c.type in (OBJECT, ARRAY)]
