"""Bulk-sync copy speed and memory: sandbox Salesforce Contacts into PostgreSQL.

    python bench/bulk_copy.py [--rows 1000000] [--url postgresql://...]

Seeds N Contacts straight into a sandbox state file (no API calls), serves it
with `python -m integrations.sandbox` in a child process, then copies them in a
fresh child process the way a bulk run does: the Salesforce bulk source reads
SOQL pages (queryAll, 2,000 records a page) and the PostgreSQL destination
loads batches of 10,000 (the values COPYed as text into a staging table, cast in
SQL on the upsert by Id) in a thread of its own while the next pages are read.
Prints that process's rows/s and peak RSS (VmHWM), beside the rate of a plain
COPY of the same rows into a bare table: the physical limit of the warehouse.
PostgreSQL is the given database or a throwaway cluster from Debian's binaries.
Nothing is asserted; the schemas are dropped afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from integrations import egress  # noqa: E402

SCHEMA = "bench_bulk"
FIELDS = ["Id", "FirstName", "LastName", "Email", "Title", "Phone", "CreatedDate", "LastModifiedDate",
          "SystemModstamp", "IsDeleted"]
API_KEY = "sandbox-api-key"
SEED_CHUNK = 20_000


def peak_rss_kb() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


def contacts(rows: int):
    """The benchmark's Contacts, as tuples in FIELDS order (the same for the sandbox and the plain COPY)."""
    from integrations.salesforce.sandbox_schema import make_id

    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for n in range(1, rows + 1):
        moment = (start + timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        yield (make_id("003", 1_000_000 + n), f"First{n}", f"Last{n}", f"person{n}@bench.example",
               "Engineer" if n % 3 else "Manager", f"+1 555 {n:07d}", moment, moment, moment, False)


def seed_sandbox(path: str, rows: int):
    """Write the Contacts into the sandbox's store directly: one sqlite transaction, no HTTP."""
    from integrations.sandbox import oauth
    from integrations.salesforce import sandbox as salesforce
    from integrations.sandbox.state import State

    state = State(path)
    scoped = state.scoped(salesforce.NAME)
    # what the sandbox installs on a first start (its API keys); no demo records beside the benchmark's
    oauth.install_defaults(scoped, salesforce.OAUTH)
    with state.transaction():
        batch = []
        for values in contacts(rows):
            doc = dict(zip(FIELDS, values))
            doc.update(id=doc["Id"], OwnerId=salesforce.USER_ID, _email=doc["Email"])
            batch.append(("salesforce/Contact", doc["Id"], json.dumps(doc)))
            if len(batch) >= SEED_CHUNK:
                state._db.executemany("INSERT INTO docs (collection, key, body) VALUES (?, ?, ?)", batch)
                batch = []
        if batch:
            state._db.executemany("INSERT INTO docs (collection, key, body) VALUES (?, ?, ?)", batch)
    state.close()


def bulk_copy(sandbox_url: str, config: dict) -> dict:
    """The child's work: a full bulk copy of Contact, measured."""
    import httpx

    from integrations.base import Column, ProviderSession
    from integrations.salesforce import bulk_source
    from integrations.warehouses.destinations import BackgroundWriter, PostgresDestination

    http = httpx.Client(base_url=f"{sandbox_url}/salesforce/services/data/v62.0",
                        headers={"Authorization": f"Bearer {API_KEY}"}, timeout=600)
    session = ProviderSession(config={}, http=http)
    before = peak_rss_kb()
    started = time.perf_counter()
    described = {f["id"]: f for f in bulk_source.fields(session, "Contact")}
    columns = [Column(name, described[name]["type"]) for name in FIELDS]
    with PostgresDestination(config, schema=SCHEMA) as destination:
        table = destination.prepare("Contact", columns, bulk_source.KEY)
        read = bulk_source.Read(session, "Contact", FIELDS)
        pending, written = [], []
        with BackgroundWriter(destination, table) as writer:  # as console/bulk/runs.py copies
            for page in read:
                pending.extend(page)
                if len(pending) >= destination.batch_size:
                    written.append(writer.submit(pending))
                    pending = []
            if pending:
                written.append(writer.submit(pending))
            written.append(writer.wait())
        done = [w for w in written if w is not None]
        rows, batches = sum(w.upserted for w in done), len(done)
    seconds = time.perf_counter() - started
    http.close()
    return {"rows": rows, "batches": batches, "seconds": seconds, "cursor": read.cursor,
            "peak_rss_kb_before": before, "peak_rss_kb": peak_rss_kb()}


def plain_copy(config: dict, rows: int) -> dict:
    """The child's work: COPY the same rows into a bare table, measured."""
    import psycopg

    types = ["text"] * 6 + ["timestamptz"] * 3 + ["boolean"]
    columns = ", ".join(f'"{name.lower()}" {type_}' for name, type_ in zip(FIELDS, types))
    with psycopg.connect(host=config["hostname"], port=config["port"], dbname=config["database"],
                         user=config["username"], password=config["password"] or None) as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        conn.execute(f"CREATE TABLE {SCHEMA}.plain_contact ({columns})")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"COPY {SCHEMA}.plain_contact FROM STDIN") as copy:
            for values in contacts(rows):
                copy.write_row(values)
        conn.commit()
        seconds = time.perf_counter() - started
    return {"rows": rows, "seconds": seconds, "peak_rss_kb": peak_rss_kb()}


def child(*args) -> dict:
    result = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        raise RuntimeError(f"{args[0]} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def counted(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(f"SELECT count(*) FROM {SCHEMA}.contact").fetchone()[0]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--url", default=os.environ.get("BENCH_POSTGRES_URL"),
                        help="a database to copy into (default: a throwaway cluster)")
    parser.add_argument("--bulk-child", nargs=2, help=argparse.SUPPRESS)  # sandbox URL, JSON config
    parser.add_argument("--copy-child", help=argparse.SUPPRESS)  # JSON config
    args = parser.parse_args(argv)

    if args.bulk_child:
        print(json.dumps(bulk_copy(args.bulk_child[0], json.loads(args.bulk_child[1]))))
        return 0
    if args.copy_child:
        print(json.dumps(plain_copy(json.loads(args.copy_child), args.rows)))
        return 0

    import psycopg

    from integrations.demo.pgcluster import source_config, throwaway_postgres

    with contextlib.ExitStack() as stack:
        workdir = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-bulk-"))
        state_path = os.path.join(workdir, "sandbox.sqlite3")
        print(f"seeding {args.rows:,} Salesforce Contacts into the sandbox store ...", flush=True)
        started = time.perf_counter()
        seed_sandbox(state_path, args.rows)
        print(f"seeded in {time.perf_counter() - started:.1f}s", flush=True)

        sandbox = subprocess.Popen(
            [sys.executable, "-m", "integrations.sandbox", "--port", "0", "--state", state_path],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        stack.callback(sandbox.wait)
        stack.callback(sandbox.terminate)
        # its first line: "sandbox providers on http://127.0.0.1:PORT: ..."
        sandbox_url = re.search(r"on (http://[\w.]+:\d+)", sandbox.stdout.readline()).group(1)

        url = args.url or stack.enter_context(throwaway_postgres())
        config = source_config(url)
        egress.allow_in_environment(sandbox_url, f"{config['hostname']}:{config['port']}")
        print(f"PostgreSQL: {'given URL' if args.url else 'throwaway cluster'}", flush=True)
        try:
            bulk = child("--bulk-child", sandbox_url, json.dumps(config))
            landed = counted(url)
            plain = child("--copy-child", json.dumps(config), "--rows", str(args.rows))
        finally:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")

    bulk_rate = bulk["rows"] / bulk["seconds"]
    plain_rate = plain["rows"] / plain["seconds"]
    print(f"bulk copy: {bulk['rows']:,} records in {bulk['batches']} batches in {bulk['seconds']:.1f}s: "
          f"{bulk_rate:,.0f} rows/s; {landed:,} rows in the table")
    print(f"peak RSS of the copying process: {bulk['peak_rss_kb'] / 1024:.1f} MB "
          f"({bulk['peak_rss_kb_before'] / 1024:.1f} MB before copying)")
    print(f"plain COPY of the same rows: {plain['seconds']:.1f}s: {plain_rate:,.0f} rows/s "
          f"(the bulk copy runs at {bulk_rate / plain_rate:.0%} of it)")
    print(f"bulk copy / plain COPY: {bulk['seconds'] / plain['seconds']:.2f}x the time (target <= 2x)")
    if landed != args.rows:
        print(f"expected {args.rows:,} rows in the table", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
