"""The sync engine end to end: a large PostgreSQL model to the sandbox's HubSpot batch upsert.

    python bench/engine_hubspot.py [--rows 1000000] [--batch-size 5000]

Starts a throwaway PostgreSQL cluster (the console's database and the source
table), Redis and the sandbox (state in a file), generates N people with
generate_series, and syncs them (email identity, 6 mapped fields) through a
real `celery worker -P solo` process: the task runs in that process, whose
peak RSS (VmHWM) is read at the end. Then 1% of the rows change
(UPDATE ... WHERE id % 100 = 0) and a second run sends only those; the
sandbox's state tells how many contacts that run touched. Last, a minimal loop
(server-side cursor, the same 100-record batches POSTed with httpx, nothing
else) moves the same rows to the same endpoint, so the engine's overhead shows
as a ratio. Rate limits are lifted on both sides so they are not what is
measured. Targets: engine <= 1.5x the minimal loop, worker peak RSS <= 300 MB,
the 1%-changed run <= 10% of the full run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load_history import as_url, redis_server, wait_for_port  # noqa: E402
from integrations import egress  # noqa: E402
from integrations.demo.warehouse import free_port  # noqa: E402

TARGET_RATIO = 1.5
TARGET_MB = 300
TARGET_CHANGED_SHARE = 0.10
QUEUE = f"bench-{os.getpid()}"
TOKEN = "pat-na1-sandbox-private-app"
HUBSPOT_BATCH = 100
# model column -> HubSpot contact property; email is the identity
FIELDS = {"first_name": "firstname", "last_name": "lastname", "company": "company", "title": "jobtitle",
          "country": "country", "city": "city"}
QUERY = "SELECT id, email, " + ", ".join(FIELDS) + " FROM bench.people"


def generate_people(url: str, rows: int):
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS bench CASCADE")
        conn.execute("CREATE SCHEMA bench")
        conn.execute(f"""
            CREATE TABLE bench.people AS
            SELECT g AS id, 'person' || g || '@example.com' AS email, 'First' || g AS first_name,
                   'Last' || (g % 9973) AS last_name, 'Company ' || (g % 5000) AS company,
                   (ARRAY['CEO', 'CTO', 'VP Sales', 'Engineer', 'Designer'])[1 + g % 5] AS title,
                   (ARRAY['United States', 'France', 'Germany', 'Japan'])[1 + g % 4] AS country,
                   'City ' || (g % 300) AS city
            FROM generate_series(1, {int(rows)}) AS g""")
        conn.execute("ALTER TABLE bench.people ADD PRIMARY KEY (id)")
        conn.execute("ANALYZE bench.people")


def change_one_percent(url: str) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("UPDATE bench.people SET title = title || ' (changed)' WHERE id % 100 = 0").rowcount


@contextlib.contextmanager
def sandbox_server(state_path: str):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "integrations.sandbox", "--port", str(port),
                                "--state", state_path], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait()


def contacts_touched_since(state_path: str, since_ms: int) -> int:
    """Contacts the sandbox created or changed since then, read from its state file."""
    with contextlib.closing(sqlite3.connect(state_path, timeout=30)) as db:
        return db.execute(
            "SELECT count(*) FROM docs WHERE collection LIKE '%contacts' "
            "AND json_extract(body, '$._modified') >= ?", (since_ms,)).fetchone()[0]


def contact_count(sandbox: str) -> int:
    import httpx

    collections = httpx.get(f"{sandbox}/_sandbox/state/hubspot", timeout=None).json()
    found = collections.get("data", collections) if isinstance(collections, dict) else collections
    if isinstance(found, dict):
        return int(found.get("contacts", 0))
    return next((int(c.get("count", 0)) for c in found if c.get("name") == "contacts"), 0)


def upsert_requests(sandbox: str) -> int:
    import httpx

    counts = httpx.get(f"{sandbox}/_sandbox/requests", timeout=30).json()
    rules = counts.get("rules") or counts.get("data", {}).get("rules") or {}
    return sum(n for rule, n in rules.items() if "batch/upsert" in rule)


# ---- the engine side -------------------------------------------------------------------


def make_sync(source_url: str):
    from console.accounts.services import sign_up
    from console.connections import services as connections
    from console.datamodels.models import DataModel, ModelField
    from console.syncs.models import Sync
    from integrations import registry
    from integrations.demo.pgcluster import source_config

    user = sign_up("bench@example.com", "correct-horse-battery", "Bench Company")
    organization = user.memberships.get().organization
    warehouse = connections.create_connection(organization, name="Bench PostgreSQL", type_id="postgresql",
                                              configuration=source_config(source_url), validate=False)
    hubspot = connections.create_connection(organization, name="HubSpot (sandbox)", type_id="hubspot",
                                            configuration=dict(registry.get("hubspot").demo_configuration),
                                            validate=False)
    model = DataModel.objects.create(organization=organization, connection=warehouse, name="People",
                                     configuration={"query": QUERY})
    for position, name in enumerate(["id", "email", *FIELDS]):
        ModelField.objects.create(model=model, name=name, type="integer" if name == "id" else "string",
                                  position=position)
    return Sync.objects.create(
        organization=organization, name="People to HubSpot", mode="updateOrCreate", model=model,
        target_connection=hubspot, target_object="contacts",
        identity={"source": {"model_id": str(model.pk), "field": "email"}, "target": "email",
                  "function": "Equality"},
        fields=[{"source": {"model_id": str(model.pk), "field": column}, "target": prop}
                for column, prop in FIELDS.items()],
        created_by=user, updated_by=user,
    )


def run_and_wait(sync, timeout: float = 7200):
    from console.engine import services
    from console.engine.models import Execution

    execution = services.start_execution(sync)
    started = time.perf_counter()
    while True:
        execution = Execution.objects.get(pk=execution.pk)
        if execution.status in ("completed", "failed", "canceled", "interrupted"):
            break
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"execution still {execution.status} after {timeout:.0f}s")
        time.sleep(0.2)
    if execution.started_at and execution.completed_at:
        seconds = (execution.completed_at - execution.started_at).total_seconds()
    else:
        seconds = time.perf_counter() - started
    if execution.status != "completed":
        raise RuntimeError(f"execution {execution.status}: {execution.error}")
    return execution, seconds


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


# ---- the minimal loop ------------------------------------------------------------------


def minimal_loop(source_url: str, sandbox: str, batch_size: int) -> tuple[int, float]:
    """Stream rows with a server-side cursor and POST them in 100-record batch upserts; nothing else."""
    import httpx
    import psycopg

    url = f"{sandbox}/hubspot/crm/v3/objects/contacts/batch/upsert"
    sent = 0
    started = time.perf_counter()
    with psycopg.connect(source_url) as conn, httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"},
                                                          timeout=120) as http:
        with conn.cursor(name="minimal") as cursor:
            cursor.itersize = batch_size
            cursor.execute(QUERY)
            batch = []
            for row in cursor:
                batch.append({"idProperty": "email", "id": row[1],
                              "properties": dict(zip(FIELDS.values(), row[2:]))})
                if len(batch) == HUBSPOT_BATCH:
                    http.post(url, json={"inputs": batch}).raise_for_status()
                    sent += len(batch)
                    batch = []
            if batch:
                http.post(url, json={"inputs": batch}).raise_for_status()
                sent += len(batch)
    return sent, time.perf_counter() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=5000, help="rows read from the model at a time")
    args = parser.parse_args(argv)

    import httpx

    from integrations.demo.pgcluster import scratch_database, throwaway_postgres

    with contextlib.ExitStack() as stack:
        server_url = stack.enter_context(throwaway_postgres())
        console_url = as_url(stack.enter_context(scratch_database(server_url, f"engine_bench_{os.getpid()}")))
        source_url = server_url
        redis_url = stack.enter_context(redis_server())
        directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="engine-bench-"))
        state_path = os.path.join(directory, "sandbox.sqlite3")
        sandbox = stack.enter_context(sandbox_server(state_path))
        limits = {"hubspot_requests_per_10s": 10**9, "hubspot_requests_per_day": 10**12}
        httpx.put(f"{sandbox}/_sandbox/settings", json=limits).raise_for_status()

        env = {"DATABASE_URL": console_url, "REDIS_URL": redis_url, "SANDBOX_URL": sandbox,
               "DJANGO_SETTINGS_MODULE": "console.settings", "LOG_LEVEL": "WARNING", "ENGINE_QUEUE": QUEUE,
               "ENGINE_SOURCE_BATCH_SIZE": str(args.batch_size),
               "ENGINE_RATE_LIMITS": json.dumps({"hubspot": []}),  # no engine budget: not what is measured
               "ENGINE_HEARTBEAT_SECONDS": "5"}
        os.environ.update(env)
        egress.allow_in_environment(sandbox, server_url)  # the sandbox, and the PostgreSQL source
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)

        print(f"Generating {args.rows:,} people in PostgreSQL (generate_series) ...", flush=True)
        started = time.perf_counter()
        generate_people(source_url, args.rows)
        print(f"  generated in {time.perf_counter() - started:.1f}s", flush=True)
        sync = make_sync(source_url)
        from django.db import connections

        connections.close_all()

        log_path = os.path.join(directory, "worker.log")
        log = stack.enter_context(open(log_path, "wb"))
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "console", "worker", "-P", "solo", "-l", "warning",
             "-Q", QUEUE, "-n", f"{QUEUE}@localhost", "--without-mingle", "--without-gossip"],
            cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
        stack.callback(lambda: (worker.terminate(), worker.wait()))

        print("Full run through a real Celery worker (-P solo: the task runs in the process measured) ...",
              flush=True)
        full, full_seconds = run_and_wait(sync)
        worker_mb = peak_rss_mb(worker.pid)
        received_full = contact_count(sandbox)
        print(f"  {full_seconds:.1f}s, {args.rows / full_seconds:,.0f} rows/s, worker peak RSS {worker_mb:.0f} MB",
              flush=True)

        changed = change_one_percent(source_url)
        httpx.delete(f"{sandbox}/_sandbox/requests").raise_for_status()
        since_ms = int(time.time() * 1000)
        print(f"Second run after changing {changed:,} rows ...", flush=True)
        second, second_seconds = run_and_wait(sync)
        touched = contacts_touched_since(state_path, since_ms)
        second_requests = upsert_requests(sandbox)
        worker_mb = max(worker_mb, peak_rss_mb(worker.pid))
        print(f"  {second_seconds:.1f}s; the sandbox received {touched:,} contacts", flush=True)

        print("Minimal loop (server-side cursor + httpx POST of the same batches) ...", flush=True)
        httpx.post(f"{sandbox}/_sandbox/reset", timeout=None).raise_for_status()  # slow with 1M contacts
        httpx.put(f"{sandbox}/_sandbox/settings", json=limits).raise_for_status()
        minimal_sent, minimal_seconds = minimal_loop(source_url, sandbox, args.batch_size)

        ratio = full_seconds / minimal_seconds
        share = second_seconds / full_seconds

        def verdict(ok):
            return "ok" if ok else "MISSED"

        print()
        print(f"rows                         {args.rows:,} (6 mapped fields + email identity, "
              f"{HUBSPOT_BATCH}-record batch upserts)")
        print(f"full run                     {full_seconds:.1f}s, {args.rows / full_seconds:,.0f} rows/s "
              f"(inserted {full.inserted:,}, errored {full.errored:,}; sandbox holds {received_full:,} contacts)")
        print(f"worker peak RSS              {worker_mb:.0f} MB (VmHWM of the celery -P solo worker)   "
              f"target <= {TARGET_MB} MB: {verdict(worker_mb <= TARGET_MB)}")
        print(f"1%-changed run               {second_seconds:.1f}s = {share:.1%} of the full run   "
              f"target <= {TARGET_CHANGED_SHARE:.0%}: {verdict(share <= TARGET_CHANGED_SHARE)}")
        print(f"  rows changed               {changed:,}; run counted updated {second.updated:,}, "
              f"unchanged {second.unchanged:,}")
        print(f"  sandbox received           {touched:,} contacts in {second_requests:,} batch upserts   "
              f"exactly the changed rows: {verdict(touched == changed == second.updated)}")
        print(f"minimal loop                 {minimal_seconds:.1f}s, {minimal_sent / minimal_seconds:,.0f} rows/s")
        print(f"engine / minimal             {ratio:.2f}x   target <= {TARGET_RATIO}x: "
              f"{verdict(ratio <= TARGET_RATIO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
