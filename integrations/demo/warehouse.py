"""The demo warehouse: the demo tables loaded into fakesnow, PostgreSQL, SQLite or MySQL.

Run a Snowflake-compatible warehouse for the demo:

    python -m integrations.demo.warehouse --port 8200 --dir var/fakesnow [--rows 5000]

It serves Snowflake's HTTP protocol (fakesnow) on 127.0.0.1, keeps its data in
DuckDB files under --dir, seeds `DATABASE.PUBLIC.USERS` and
`DATABASE.PUBLIC.SALESFORCE_CONTACTS` the first time, prints the endpoint and
runs until Ctrl-C. A Snowflake connection configured like the product brief's
({"account": "uc193736182", "username": "user", "password": "secret",
"dbname": "database"}) reaches it with `SnowflakeSource(config,
endpoint="http://127.0.0.1:8200")`: fakesnow accepts any account and
credentials, and the source defaults the schema to PUBLIC.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import queue
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from decimal import Decimal
from itertools import islice
from pathlib import Path

from integrations.base import BOOLEAN, DATE, DATETIME, INTEGER, NUMBER, STRING
from integrations.demo import data

DATABASE = "DATABASE"  # what the brief's dbname "database" becomes: Snowflake upper-cases identifiers
SCHEMA = "PUBLIC"
BATCH = 10_000
ROOT = Path(__file__).resolve().parents[2]


def _batches(iterable, size: int = BATCH) -> Iterator[list]:
    iterator = iter(iterable)
    while batch := list(islice(iterator, size)):
        yield batch


def _row_tuples(table: str, rows: int, seed: int) -> Iterator[tuple]:
    names = [name for name, _ in data.TABLES[table]]
    for row in data.rows(table, rows, seed):
        yield tuple(row[n] for n in names)


# ---- fakesnow (Snowflake) ------------------------------------------------------------

SNOWFLAKE_TYPES = {INTEGER: "NUMBER(38,0)", STRING: "VARCHAR", NUMBER: "NUMBER(12,2)", DATE: "DATE",
                   DATETIME: "TIMESTAMP_NTZ", BOOLEAN: "BOOLEAN"}


def _arrow_schema(table: str):
    import pyarrow as pa

    types = {INTEGER: pa.int64(), STRING: pa.string(), NUMBER: pa.decimal128(12, 2), DATE: pa.date32(),
             DATETIME: pa.timestamp("us"), BOOLEAN: pa.bool_()}
    return pa.schema([(name.upper(), types[kind]) for name, kind in data.TABLES[table]])


def fakesnow_has_demo(fs) -> bool:
    """Both demo tables exist and hold rows."""
    for table in data.TABLES:
        exists = fs.duck_conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE upper(table_catalog) = ? "
            "AND upper(table_schema) = ? AND upper(table_name) = ?",
            [DATABASE, SCHEMA, table.upper()],
        ).fetchone()[0]
        if not exists or not fs.duck_conn.execute(
            f'SELECT count(*) FROM "{DATABASE}"."{SCHEMA}"."{table.upper()}"'
        ).fetchone()[0]:
            return False
    return True


def load_fakesnow(fs, rows: int = data.DEFAULT_ROWS, seed: int = data.SEED) -> None:
    """Create and fill the demo tables in a fakesnow instance (`fakesnow.instance.FakeSnow`).

    The tables are created through fakesnow (so they look like Snowflake's) and
    filled straight through its DuckDB connection, in one transaction.
    """
    import pyarrow as pa

    conn = fs.connect(DATABASE, SCHEMA)  # attaches DATABASE.db under the instance's db_path
    cur = conn.cursor()
    for table, columns in data.TABLES.items():
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        ddl = ", ".join(f"{name} {SNOWFLAKE_TYPES[kind]}" for name, kind in columns)
        cur.execute(f"CREATE TABLE {table} ({ddl})")
    duck = fs.duck_conn.cursor()
    duck.execute("BEGIN")
    try:
        for table in data.TABLES:
            schema = _arrow_schema(table)
            for batch in _batches(data.rows(table, rows, seed)):
                arrow = pa.Table.from_pylist([{k.upper(): v for k, v in r.items()} for r in batch], schema=schema)
                duck.register("demo_batch", arrow)
                duck.execute(f'INSERT INTO "{DATABASE}"."{SCHEMA}"."{table.upper()}" SELECT * FROM demo_batch')
                duck.unregister("demo_batch")
        duck.execute("COMMIT")
    except BaseException:
        duck.execute("ROLLBACK")
        raise
    finally:
        duck.close()


def shut_files_out(duck) -> None:
    """Queries reach this DuckDB from tenants, on the console's machine: no file beyond the
    databases already attached (read_text, read_csv, COPY, ATTACH), no extension
    (sqlite_scan, INSTALL, LOAD), and no setting that could turn either back on."""
    duck.execute("SET enable_external_access = false")
    duck.execute("SET lock_configuration = true")
    answer_duckdb_errors_as_query_errors()


def answer_duckdb_errors_as_query_errors() -> None:
    """fakesnow answers a DuckDB error it does not translate (a refused file, say) with HTTP 500,
    which Snowflake clients retry for minutes; make it the query's error instead."""
    import duckdb
    from fakesnow.cursor import FakeSnowflakeCursor
    from snowflake.connector.errors import ProgrammingError

    execute = FakeSnowflakeCursor._execute
    if getattr(execute, "answers_duckdb_errors", False):
        return

    def answered(cursor, *args, **kwargs):
        try:
            return execute(cursor, *args, **kwargs)
        except duckdb.Error as error:
            raise ProgrammingError(msg=str(error).splitlines()[0], errno=3001, sqlstate="42501") from None

    answered.answers_duckdb_errors = True
    FakeSnowflakeCursor._execute = answered


def serve_fakesnow(directory: str | os.PathLike, port: int, rows: int = data.DEFAULT_ROWS,
                   host: str = "127.0.0.1", ready=None, stop: threading.Event | None = None) -> None:
    """Serve fakesnow persisted under `directory` until `stop` is set; seed it first if empty.

    fakesnow's own `-s` server mode keeps its databases in memory, so this sets
    the server module's shared instance to one backed by files.
    """
    import uvicorn
    from fakesnow.instance import FakeSnow

    # fakesnow's own cursor warns about an extra Arrow copy on every query; nothing to act on
    warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")
    server_module = __import__("fakesnow.server", fromlist=["app"])
    os.makedirs(directory, exist_ok=True)
    fs = FakeSnow(db_path=str(directory))
    fs.connect(DATABASE, SCHEMA)
    if not fakesnow_has_demo(fs):
        started = time.monotonic()
        load_fakesnow(fs, rows)
        print(f"Seeded {DATABASE}.{SCHEMA}.USERS and SALESFORCE_CONTACTS with {rows} rows each "
              f"in {time.monotonic() - started:.1f}s", flush=True)
    fs.duck_conn.execute("CHECKPOINT")
    shut_files_out(fs.duck_conn)
    server_module.shared_fs = fs
    logging.getLogger("fakesnow.server").setLevel(logging.WARNING)

    server = uvicorn.Server(uvicorn.Config(server_module.app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="fakesnow", daemon=True)
    thread.start()
    while thread.is_alive() and not server.started:
        time.sleep(0.05)
    if not server.started:
        raise RuntimeError(f"fakesnow could not listen on {host}:{port}")
    if ready:
        ready(f"http://{host}:{port}")
    try:
        (stop or threading.Event()).wait()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        with contextlib.suppress(Exception):
            fs.duck_conn.execute("CHECKPOINT")
        with contextlib.suppress(Exception):
            fs.duck_conn.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_fakesnow(directory: str | os.PathLike, rows: int = data.DEFAULT_ROWS,
                     port: int | None = None, timeout: float = 120.0) -> Iterator[str]:
    """A seeded demo warehouse in a child process on a free port; yields its endpoint URL."""
    port = port or free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "integrations.demo.warehouse", "--port", str(port),
         "--dir", str(Path(directory).resolve()), "--rows", str(rows)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: queue.Queue = queue.Queue()

    def pump():  # keep reading its output so it never blocks on a full pipe
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    output: list[str] = []
    endpoint = None
    deadline = time.monotonic() + timeout
    try:
        while endpoint is None and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                continue
            if line is None:
                break
            output.append(line)
            if line.startswith("Demo warehouse listening on "):
                endpoint = line.split()[-1]
        if endpoint is None:
            raise RuntimeError("the demo warehouse did not start:\n" + "".join(output))
        yield endpoint
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# ---- PostgreSQL ---------------------------------------------------------------------

POSTGRES_TYPES = {INTEGER: "bigint", STRING: "text", NUMBER: "numeric(12,2)", DATE: "date",
                  DATETIME: "timestamp", BOOLEAN: "boolean"}


def load_postgres(url: str, rows: int = data.DEFAULT_ROWS, seed: int = data.SEED,
                  tables=tuple(data.TABLES), schema: str = "public") -> None:
    """(Re)create and fill the demo tables in PostgreSQL with COPY."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        for table in tables:
            columns = data.TABLES[table]
            target = sql.Identifier(schema, table)
            cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(target))
            cur.execute(sql.SQL("CREATE TABLE {} ({})").format(target, sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(POSTGRES_TYPES[kind]))
                for name, kind in columns)))
            copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
                target, sql.SQL(", ").join(sql.Identifier(name) for name, _ in columns))
            with cur.copy(copy_sql) as copy:
                for row in _row_tuples(table, rows, seed):
                    copy.write_row(row)
            cur.execute(sql.SQL("ALTER TABLE {} ADD PRIMARY KEY (id)").format(target))
        cur.execute("ANALYZE")


# ---- SQLite -------------------------------------------------------------------------

SQLITE_TYPES = {INTEGER: "INTEGER", STRING: "TEXT", NUMBER: "REAL", DATE: "DATE",
                DATETIME: "TIMESTAMP", BOOLEAN: "BOOLEAN"}


def _sqlite_value(value):
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def load_sqlite(path: str | os.PathLike, rows: int = data.DEFAULT_ROWS, seed: int = data.SEED,
                tables=tuple(data.TABLES)) -> None:
    """(Re)create and fill the demo tables in a SQLite file.

    SQLite has no date or boolean storage: dates and timestamps are ISO text,
    booleans 0/1, amounts REAL.
    """
    conn = sqlite3.connect(path)
    try:
        with conn:
            for table in tables:
                columns = data.TABLES[table]
                conn.execute(f'DROP TABLE IF EXISTS "{table}"')
                ddl = ", ".join(f'"{name}" {SQLITE_TYPES[kind]}' for name, kind in columns)
                conn.execute(f'CREATE TABLE "{table}" ({ddl}, PRIMARY KEY ("id"))')
                marks = ", ".join("?" for _ in columns)
                conn.executemany(f'INSERT INTO "{table}" VALUES ({marks})',
                                 (tuple(_sqlite_value(v) for v in row) for row in _row_tuples(table, rows, seed)))
    finally:
        conn.close()


# ---- MySQL --------------------------------------------------------------------------

MYSQL_TYPES = {INTEGER: "BIGINT", STRING: "VARCHAR(255)", NUMBER: "DECIMAL(12,2)", DATE: "DATE",
               DATETIME: "DATETIME", BOOLEAN: "BOOLEAN"}


def load_mysql(connect_kwargs: dict, rows: int = data.DEFAULT_ROWS, seed: int = data.SEED,
               tables=tuple(data.TABLES)) -> None:
    """(Re)create and fill the demo tables in MySQL/MariaDB (PyMySQL connect() arguments)."""
    import pymysql

    conn = pymysql.connect(**connect_kwargs, charset="utf8mb4")
    try:
        with conn.cursor() as cur:
            for table in tables:
                columns = data.TABLES[table]
                cur.execute(f"DROP TABLE IF EXISTS `{table}`")
                ddl = ", ".join(f"`{name}` {MYSQL_TYPES[kind]}" for name, kind in columns)
                cur.execute(f"CREATE TABLE `{table}` ({ddl}, PRIMARY KEY (`id`))")
                marks = ", ".join("%s" for _ in columns)
                for batch in _batches(_row_tuples(table, rows, seed), 2000):
                    cur.executemany(f"INSERT INTO `{table}` VALUES ({marks})", batch)
        conn.commit()
    finally:
        conn.close()


# ---- the runner ---------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m integrations.demo.warehouse", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--dir", default="var/fakesnow", help="where the DuckDB files live")
    parser.add_argument("--rows", type=int, default=data.DEFAULT_ROWS, help="rows per table when seeding")
    args = parser.parse_args(argv)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    def ready(endpoint):
        print(f"Demo warehouse listening on {endpoint}", flush=True)

    serve_fakesnow(args.dir, args.port, rows=args.rows, host=args.host, ready=ready, stop=stop)
    print("Demo warehouse stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
