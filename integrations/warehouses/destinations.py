"""Bulk-sync destinations: a warehouse table per source object, kept in step with the source.

    with get_destination("postgresql", config, schema="salesforce") as destination:
        table = destination.prepare("Contact", columns, key="Id")   # create or evolve
        destination.write(table, records)                          # one batch of dicts

`prepare` creates the schema and the table from the source's columns, or adds
the columns the table lacks (ALTER TABLE ADD COLUMN); `rebuild=True` drops it
first. `write` loads one batch: upserted by the key (or appended), records
flagged `_deleted` are marked (`_deleted` column) or removed, per `deletes`.
Two timestamp columns record when the console first wrote and last changed
a row, unless `record_timestamps` is off.

Each class reuses its warehouse source for connecting, quoting and error
messages, with a writable session. Table and column names are normalized
(lower-case snake case; upper case on Snowflake, where unquoted names are
upper case) unless `normalize_names` is off.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from operator import itemgetter

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
    QueryError,
)
from integrations.files import FileRoot
from integrations.warehouses.postgresql import PostgresSource
from integrations.warehouses.snowflake import SnowflakeSource
from integrations.warehouses.sqlite import SQLiteSource, authorize

DELETED = "_deleted"  # set on a record by the source when it was deleted there
INSERTED_AT = "_inserted_at"
UPDATED_AT = "_updated_at"
DELETE_MODES = ("mark", "remove")
WRITE_MODES = ("replicate", "append")

_NOT_WORD = re.compile(r"[^a-z0-9_]+")


def normalize(name: str) -> str:
    """"Customer Score__c" -> "customer_score__c"."""
    text = _NOT_WORD.sub("_", name.strip().lower()) or "_"
    return "_" + text if text[0].isdigit() else text


def to_datetime(value) -> datetime:
    """ISO 8601 (Salesforce's +0000 and HubSpot's Z included) or epoch milliseconds, in UTC when naive."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, (int, float)) or str(value).strip().lstrip("-").isdigit():
        moment = datetime.fromtimestamp(int(value) / 1000, timezone.utc)
    else:
        moment = datetime.fromisoformat(str(value).strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def as_text(value):
    return value if isinstance(value, str) else json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def as_integer(value):
    return value if isinstance(value, int) else int(float(value))


def as_boolean(value):
    if isinstance(value, str):
        if value.lower() not in ("true", "false"):
            raise ValueError(f"{value!r} is not a boolean")
        return value.lower() == "true"
    return bool(value)


def as_date(value):
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def as_json(value):
    return value if isinstance(value, str) else json.dumps(value)


CONVERTERS = {STRING: as_text, INTEGER: as_integer, NUMBER: float, BOOLEAN: as_boolean, DATETIME: to_datetime,
              DATE: as_date, OBJECT: as_json, ARRAY: as_json}


def coerce(value, type_: str):
    """A source value as the column's type wants it; ValueError when it cannot be."""
    if value is None or (value == "" and type_ != STRING):
        return None
    convert = CONVERTERS.get(type_)
    return convert(value) if convert else value


def row_of(record: dict, plan: list[tuple]) -> tuple:
    """The record's values for [(field, type, converter)], as coerce() makes them (the hot loop of a copy)."""
    values = []
    for name, type_, convert in plan:
        value = record.get(name)
        if value is None or (value == "" and type_ != STRING):
            values.append(None)
        elif convert is None or (type_ == STRING and type(value) is str):
            values.append(value)
        else:
            try:
                values.append(convert(value))
            except (TypeError, ValueError) as error:
                raise ValueError(f"{name} {value!r} is not a valid {type_} ({error})") from None
    return tuple(values)


@dataclass
class TableLoad:
    """One destination table prepared for a run: where it is and which source field goes where."""

    schema: str
    name: str
    key: str  # the key's column name
    source_key: str  # the key's source field name
    columns: dict  # source field name -> Column(destination name, type)
    created: bool = False
    added: list = field(default_factory=list)  # columns added to an existing table this time


@dataclass
class Written:
    upserted: int = 0
    deleted: int = 0
    errors: int = 0
    first_error: str = ""


class Destination:
    """What every destination adds to its warehouse source: tables kept in step, batches loaded."""

    TYPES: dict = {}
    batch_size = 5000

    def __init__(self, config: dict, *, endpoint: str | None = None, files: FileRoot | None = None, schema: str = "",
                 deletes: str = "mark", mode: str = "replicate", record_timestamps: bool = True,
                 normalize_names: bool = True):
        super().__init__(config, endpoint=endpoint, files=files)
        if deletes not in DELETE_MODES:
            raise ValueError(f"deletes must be one of {DELETE_MODES}")
        if mode not in WRITE_MODES:
            raise ValueError(f"mode must be one of {WRITE_MODES}")
        self.deletes = deletes
        self.mode = mode
        self.record_timestamps = record_timestamps
        self.normalize_names = normalize_names
        self.schema = self.name(schema) if schema else ""

    # ---- what each dialect provides -------------------------------------------

    def existing_columns(self, schema: str, table: str) -> list[str] | None:
        """The table's column names, or None when there is no such table."""
        raise NotImplementedError

    def execute(self, statements: list[str]) -> None:
        raise NotImplementedError

    def load(self, table: TableLoad, columns: list[Column], rows: list[tuple]) -> None:
        """Insert (append) or upsert these rows; `columns` name what each tuple holds."""
        raise NotImplementedError

    def remove(self, table: TableLoad, keys: list) -> None:
        raise NotImplementedError

    def create_schema_sql(self, schema: str) -> str:
        return f"CREATE SCHEMA IF NOT EXISTS {self.quote(schema)}"

    # ---- shared -----------------------------------------------------------------

    def name(self, source_name: str) -> str:
        return normalize(source_name) if self.normalize_names else source_name

    def qualified(self, schema: str, table: str) -> str:
        return f"{self.quote(schema)}.{self.quote(table)}" if schema else self.quote(table)

    def console_columns(self) -> list[Column]:
        columns = [Column(self.name(DELETED), BOOLEAN)]
        if self.record_timestamps:
            columns += [Column(self.name(INSERTED_AT), DATETIME), Column(self.name(UPDATED_AT), DATETIME)]
        return columns

    def column_sql(self, column: Column) -> str:
        return f"{self.quote(column.name)} {self.TYPES[column.type]}"

    def prepare(self, object_name: str, columns: list[Column], key: str, rebuild: bool = False,
                table_name: str | None = None) -> TableLoad:
        """Create the table (or add the columns it lacks) for these source columns."""
        mapped = {c.name: Column(self.name(c.name), c.type) for c in columns}
        if key not in mapped:
            raise QueryError(f"The key field {key!r} is not among the columns of {object_name}.")
        table = TableLoad(self.schema, self.name(table_name or object_name), mapped[key].name, key, mapped)
        wanted = list(mapped.values()) + self.console_columns()
        target = self.qualified(table.schema, table.name)
        statements = [self.create_schema_sql(table.schema)] if table.schema else []
        if rebuild:
            statements.append(f"DROP TABLE IF EXISTS {target}")
        existing = None if rebuild else self.existing_columns(table.schema, table.name)
        if existing is None:
            body = ", ".join(self.column_sql(c) for c in wanted)
            unique = f", PRIMARY KEY ({self.quote(table.key)})" if self.mode == "replicate" else ""
            statements.append(f"CREATE TABLE {target} ({body}{unique})")
            table.created = True
        else:
            have = {name.lower() for name in existing}
            table.added = [c for c in wanted if c.name.lower() not in have]
            statements += [f"ALTER TABLE {target} ADD COLUMN {self.column_sql(c)}" for c in table.added]
        self.execute(statements)
        return table

    def write(self, table: TableLoad, records: list[dict]) -> Written:
        """Load one batch. A record whose values do not fit its columns is skipped and counted."""
        written = Written()
        fields = list(table.columns)
        columns = [table.columns[f] for f in fields] + [Column(self.name(DELETED), BOOLEAN)]
        plan = [(f, table.columns[f].type, CONVERTERS.get(table.columns[f].type)) for f in fields]
        key_at = fields.index(table.source_key)
        rows, removed = {}, []
        for number, record in enumerate(records):
            deleted = bool(record.get(DELETED))
            if deleted and self.deletes == "remove":
                removed.append(coerce(record.get(table.source_key), table.columns[table.source_key].type))
                continue
            try:
                row = row_of(record, plan) + (deleted,)
            except ValueError as error:
                written.errors += 1
                written.first_error = written.first_error or f"{table.source_key} {record.get(table.source_key)!r}: {error}"
                continue
            key = row[key_at] if self.mode == "replicate" else number
            rows.pop(key, None)  # the last version of a record in the batch wins
            rows[key] = row
        if rows:
            self.load(table, columns, list(rows.values()))
        if removed:
            self.remove(table, removed)
        written.upserted, written.deleted = len(rows), len(removed)
        return written


# ---- PostgreSQL ------------------------------------------------------------------------


class PostgresDestination(Destination, PostgresSource):
    """COPY into a temporary staging table, then INSERT ... ON CONFLICT DO UPDATE by the key."""

    TYPES = {STRING: "text", INTEGER: "bigint", NUMBER: "double precision", BOOLEAN: "boolean",
             DATE: "date", DATETIME: "timestamptz", OBJECT: "jsonb", ARRAY: "jsonb"}
    batch_size = 10_000

    def _connect(self):
        conn = super()._connect()
        conn.read_only = False
        return conn

    def run(self, work):
        """work(cursor) in one transaction; the warehouse's refusal comes out as QueryError."""
        import psycopg

        conn = self.connection()
        try:
            with conn.transaction(), conn.cursor() as cur:
                return work(cur)
        except psycopg.Error as exc:
            raise self._fail(conn, exc) from None

    def existing_columns(self, schema, table):
        def read(cur):
            cur.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
                        "AND table_name = %s ORDER BY ordinal_position", (schema or "public", table))
            return [name for (name,) in cur.fetchall()] or None

        return self.run(read)

    def execute(self, statements):
        def run_all(cur):
            for statement in statements:
                cur.execute(statement)

        self.run(run_all)

    def load(self, table, columns, rows):
        target = self.qualified(table.schema, table.name)
        names = ", ".join(self.quote(c.name) for c in columns)
        stamps = ""
        if self.record_timestamps:
            stamps = f", {self.quote(self.name(INSERTED_AT))}, {self.quote(self.name(UPDATED_AT))}"

        def work(cur):
            cur.execute(f"CREATE TEMP TABLE stage_rows (LIKE {target}) ON COMMIT DROP")
            with cur.copy(f"COPY stage_rows ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            insert = (f"INSERT INTO {target} ({names}{stamps}) SELECT {names}"
                      f"{', now(), now()' if stamps else ''} FROM stage_rows")
            if self.mode == "replicate":
                updates = [f"{self.quote(c.name)} = EXCLUDED.{self.quote(c.name)}" for c in columns
                           if c.name != table.key]
                if stamps:
                    column = self.quote(self.name(UPDATED_AT))
                    updates.append(f"{column} = EXCLUDED.{column}")
                insert += f" ON CONFLICT ({self.quote(table.key)}) DO UPDATE SET {', '.join(updates)}"
            cur.execute(insert)

        self.run(work)

    def remove(self, table, keys):
        target = self.qualified(table.schema, table.name)
        self.run(lambda cur: cur.execute(f"DELETE FROM {target} WHERE {self.quote(table.key)} = ANY(%s)", (keys,)))

    def write(self, table, records):
        """The batch's values COPYed as text into a staging table and cast on the way into the table.
        A value PostgreSQL cannot cast sends the batch through the row-by-row path, which skips it."""
        fields = list(table.columns)
        rows, removed = text_rows(records, fields, table.source_key, self.mode == "replicate",
                                  self.deletes == "remove")
        try:
            if rows:
                self.run(lambda cur: self.load_text(cur, table, rows))
        except UncastValue:
            return super().write(table, records)
        if removed:
            self.remove(table, [coerce(key, table.columns[table.source_key].type) for key in removed])
        return Written(upserted=len(rows), deleted=len(removed))

    def load_text(self, cur, table, rows):
        import psycopg
        from psycopg.types.json import JsonDumper

        columns = [*table.columns.values(), Column(self.name(DELETED), BOOLEAN)]
        names = [self.quote(c.name) for c in columns]
        target = self.qualified(table.schema, table.name)
        inserted, values = list(names), [cast_sql(name, c.type) for name, c in zip(names, columns)]
        values[-1] = f"coalesce({values[-1]}, false)"
        if self.record_timestamps:
            inserted += [self.quote(self.name(INSERTED_AT)), self.quote(self.name(UPDATED_AT))]
            values += ["now()", "now()"]
        insert = f"INSERT INTO {target} ({', '.join(inserted)}) SELECT {', '.join(values)} FROM stage_text"
        if self.mode == "replicate":
            kept = [n for n in inserted if n not in (self.quote(table.key), self.quote(self.name(INSERTED_AT)))]
            insert += (f" ON CONFLICT ({self.quote(table.key)}) DO UPDATE SET "
                       + ", ".join(f"{n} = EXCLUDED.{n}" for n in kept))
        for kind in (dict, list):  # JSON values go as their text
            cur.adapters.register_dumper(kind, JsonDumper)
        cur.execute("SET LOCAL TIME ZONE 'UTC'")  # a naive timestamp is UTC, as to_datetime reads it
        cur.execute(f"CREATE TEMP TABLE stage_text ({', '.join(f'{n} text' for n in names)}) ON COMMIT DROP")
        with cur.copy("COPY stage_text FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        try:
            cur.execute(insert)
        except psycopg.DataError:  # SQLSTATE class 22
            raise UncastValue() from None


class UncastValue(Exception):
    """A staged value does not cast to its column's type."""


def cast_sql(column: str, type_: str) -> str:
    """SQL reading a staged text value as the column's type, as coerce() reads it (empty is null but for text)."""
    value = f"NULLIF({column}, '')"
    if type_ == DATETIME:  # ISO 8601, or epoch milliseconds
        return (f"CASE WHEN {column} ~ '^\\s*-?[0-9]+\\s*$' THEN to_timestamp({column}::numeric / 1000) "
                f"ELSE {value}::timestamptz END")
    return {STRING: column, INTEGER: f"trunc({value}::numeric)::bigint", NUMBER: f"{value}::double precision",
            BOOLEAN: f"{value}::boolean", DATE: f"left({value}, 10)::date", OBJECT: f"{value}::jsonb",
            ARRAY: f"{value}::jsonb"}.get(type_, column)


def text_rows(records: list[dict], fields: list[str], key: str, by_key: bool, remove_deleted: bool):
    """The records' values in field order with the deleted flag last, unconverted; the last version of a
    key wins when `by_key`. Returns (rows, keys of deleted records to remove when `remove_deleted`)."""
    pick = itemgetter(*fields, DELETED)
    key_at = fields.index(key)
    rows, removed = {}, []
    for number, record in enumerate(records):
        try:
            row = pick(record)
        except KeyError:
            row = tuple(record.get(name) for name in [*fields, DELETED])
        if remove_deleted and row[-1]:
            removed.append(row[key_at])
        else:
            rows[row[key_at] if by_key else number] = row
    return list(rows.values()), removed


# ---- Snowflake -------------------------------------------------------------------------


class SnowflakeDestination(Destination, SnowflakeSource):
    """Multi-row INSERTs into a staging table beside the target, then one MERGE by the key."""

    TYPES = {STRING: "VARCHAR", INTEGER: "NUMBER(38,0)", NUMBER: "FLOAT", BOOLEAN: "BOOLEAN", DATE: "DATE",
             DATETIME: "TIMESTAMP_TZ", OBJECT: "VARIANT", ARRAY: "VARIANT"}
    INSERT_ROWS = 1000  # rows per INSERT statement

    def __init__(self, config, **options):
        super().__init__(config, **options)
        self.schema = self.schema or self.name(config.get("schema") or "PUBLIC")

    def name(self, source_name):
        return normalize(source_name).upper() if self.normalize_names else source_name

    def run(self, work):
        from snowflake.connector.errors import Error

        try:
            with self.connection().cursor() as cur:
                return work(cur)
        except Error as exc:
            raise self._fail(exc) from None

    def existing_columns(self, schema, table):
        def read(cur):
            cur.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
                        "AND table_name = %s", (schema, table))
            return [name for (name,) in cur.fetchall()] or None

        return self.run(read)

    def execute(self, statements):
        def run_all(cur):
            for statement in statements:
                cur.execute(statement)

        self.run(run_all)

    def load(self, table, columns, rows):
        target = self.qualified(table.schema, table.name)
        stage = self.qualified(table.schema, f"{table.name}__STAGE")
        names = [self.quote(c.name) for c in columns]
        # JSON is bound as text and parsed on the way into the stage
        parsed = [f"PARSE_JSON(column{i})" if c.type in (OBJECT, ARRAY) else f"column{i}"
                  for i, c in enumerate(columns, 1)]
        fill = f"INSERT INTO {stage} ({', '.join(names)}) SELECT {', '.join(parsed)} FROM VALUES "
        row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
        inserted, values = list(names), [f"s.{n}" for n in names]
        if self.record_timestamps:
            inserted += [self.quote(self.name(INSERTED_AT)), self.quote(self.name(UPDATED_AT))]
            values += ["CURRENT_TIMESTAMP()", "CURRENT_TIMESTAMP()"]

        def work(cur):
            body = ", ".join(self.column_sql(c) for c in columns)
            cur.execute(f"CREATE OR REPLACE TABLE {stage} ({body})")
            for start in range(0, len(rows), self.INSERT_ROWS):
                chunk = rows[start:start + self.INSERT_ROWS]
                cur.execute(fill + ", ".join([row_sql] * len(chunk)), [v for row in chunk for v in row])
            if self.mode == "append":
                cur.execute(f"INSERT INTO {target} ({', '.join(inserted)}) SELECT {', '.join(values)} FROM {stage} s")
            else:
                key = self.quote(table.key)
                updates = [f"{n} = s.{n}" for n in names if n != key]
                if self.record_timestamps:
                    updates.append(f"{self.quote(self.name(UPDATED_AT))} = CURRENT_TIMESTAMP()")
                cur.execute(f"MERGE INTO {target} t USING {stage} s ON t.{key} = s.{key} "
                            f"WHEN MATCHED THEN UPDATE SET {', '.join(updates)} "
                            f"WHEN NOT MATCHED THEN INSERT ({', '.join(inserted)}) VALUES ({', '.join(values)})")
            cur.execute(f"DROP TABLE IF EXISTS {stage}")

        self.run(work)

    def remove(self, table, keys):
        target = self.qualified(table.schema, table.name)
        for start in range(0, len(keys), self.INSERT_ROWS):
            chunk = keys[start:start + self.INSERT_ROWS]
            self.run(lambda cur: cur.execute(
                f"DELETE FROM {target} WHERE {self.quote(table.key)} IN ({', '.join(['%s'] * len(chunk))})", chunk))


# ---- SQLite (the demo's embedded warehouse) --------------------------------------------


class SQLiteDestination(Destination, SQLiteSource):
    """INSERT ... ON CONFLICT DO UPDATE in one transaction per batch. SQLite has no schemas:
    the schema becomes a prefix of the table name (salesforce_contact)."""

    TYPES = {STRING: "TEXT", INTEGER: "INTEGER", NUMBER: "REAL", BOOLEAN: "BOOLEAN", DATE: "DATE",
             DATETIME: "TIMESTAMP", OBJECT: "JSON", ARRAY: "JSON"}

    def __init__(self, config, **options):
        super().__init__(config, **options)
        self.prefix, self.schema = self.schema, ""

    def _connect(self):
        import sqlite3

        path = self.database_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        conn.set_authorizer(authorize)
        return conn

    def prepare(self, object_name, columns, key, rebuild=False, table_name=None):
        table_name = table_name or object_name
        return super().prepare(object_name, columns, key, rebuild,
                               table_name=f"{self.prefix}_{table_name}" if self.prefix else table_name)

    def run(self, work):
        import sqlite3

        conn = self.connection()
        try:
            conn.execute("BEGIN")
            result = work(conn)
            conn.execute("COMMIT")
            return result
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise self._fail(exc) from None

    def existing_columns(self, schema, table):
        rows = self._run(f"SELECT name FROM pragma_table_info({self.quote_literal(table)})")
        return [name for (name,) in rows] or None

    def execute(self, statements):
        def run_all(conn):
            for statement in statements:
                conn.execute(statement)

        self.run(run_all)

    def load(self, table, columns, rows):
        names = [self.quote(c.name) for c in columns]
        inserted, values = list(names), ["?"] * len(names)
        now = datetime.now(timezone.utc).isoformat()
        if self.record_timestamps:
            inserted += [self.quote(self.name(INSERTED_AT)), self.quote(self.name(UPDATED_AT))]
            values += ["?", "?"]
            rows = [row + (now, now) for row in rows]
        rows = [tuple(json_text(v) for v in row) for row in rows]
        statement = f"INSERT INTO {self.quote(table.name)} ({', '.join(inserted)}) VALUES ({', '.join(values)})"
        if self.mode == "replicate":
            updates = [f"{n} = excluded.{n}" for n in inserted
                       if n not in (self.quote(table.key), self.quote(self.name(INSERTED_AT)))]
            statement += f" ON CONFLICT ({self.quote(table.key)}) DO UPDATE SET {', '.join(updates)}"
        self.run(lambda conn: conn.executemany(statement, rows))

    def remove(self, table, keys):
        self.run(lambda conn: conn.executemany(
            f"DELETE FROM {self.quote(table.name)} WHERE {self.quote(table.key)} = ?", [(k,) for k in keys]))


def json_text(value):
    return value.isoformat() if isinstance(value, (datetime, date)) else value


class BackgroundWriter:
    """destination.write in a thread of its own, one batch at a time, so that the caller reads
    the next pages meanwhile. At most two batches are held: the one being written and the one
    being gathered.

        with BackgroundWriter(destination, table) as writer:
            for batch in batches:
                done = writer.submit(batch)   # the previous batch's Written, or None
            done = writer.wait()              # the last one's
    """

    def __init__(self, destination: Destination, table: TableLoad):
        self.destination = destination
        self.table = table
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulk-writer")
        self.pending: Future | None = None

    def submit(self, records: list[dict]) -> Written | None:
        """Wait for the batch in flight (its error comes out here), then start writing this one."""
        done = self.wait()
        self.pending = self.executor.submit(self.destination.write, self.table, records)
        return done

    def wait(self) -> Written | None:
        pending, self.pending = self.pending, None
        return pending.result() if pending else None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.pending is not None:
            self.pending.exception()  # a write in flight finishes before the destination is closed
        self.executor.shutdown(wait=True)


DESTINATIONS = {"postgresql": PostgresDestination, "snowflake": SnowflakeDestination, "sqlite": SQLiteDestination}


def get_destination(type_id: str, config: dict, *, endpoint: str | None = None, **options) -> Destination:
    """A destination for a warehouse connection of this type (it connects on first use)."""
    kind = DESTINATIONS.get(type_id)
    if kind is None:
        raise QueryError(f"{type_id!r} cannot be a bulk-sync destination; use one of {', '.join(DESTINATIONS)}.")
    return kind(config, endpoint=endpoint, **options)
