"""A Salesforce object as a model source: 1,000,000 Contacts read through a Bulk API 2.0 query
job into a model sync, beside a minimal loop that pages the same results.

    python bench/salesforce_source.py [--rows 1000000] [--batch-size 5000]

Seeds N Contacts straight into a sandbox state file (as bench/bulk_copy.py does),
serves it, and runs a sync of an object model (`table: Contact`, five fields) to
HubSpot contacts through a real `celery worker -P solo` process, whose peak RSS
(VmHWM) is read at the end. The object has more records than BULK_THRESHOLD, so
the worker reads it as a Bulk API 2.0 query job (created, polled, its CSV results
paged with Sforce-Locator). The sync skips its initial backfill, so the first run
reads every record and records it without sending; the second run reads them all
again and, nothing having changed, sends nothing: both measure the source side.
The minimal loop creates the same query job with httpx, polls it and pages its
CSV results with the csv module, nothing else. Targets: worker <= 300 MB, each
run <= 2x the minimal loop.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bulk_copy import API_KEY, seed_sandbox  # noqa: E402
from bench.engine_hubspot import peak_rss_mb, run_and_wait  # noqa: E402
from bench.load_history import as_url, redis_server  # noqa: E402
from integrations import egress  # noqa: E402

TARGET_RATIO = 2.0
TARGET_MB = 300
QUEUE = f"bench-sf-{os.getpid()}"
API = "/salesforce/services/data/v62.0"
COLUMNS = ["Id", "Email", "FirstName", "LastName", "Title"]
FIELDS = {"FirstName": "firstname", "LastName": "lastname", "Title": "jobtitle"}  # Email is the identity
SET_SIZE = 50_000  # rows per results request, as integrations/salesforce/bulk_source.py asks


@contextlib.contextmanager
def sandbox_server(state_path: str):
    """The sandbox on the seeded store; its first line names its URL once it listens (a store of a
    million records takes a while to open)."""
    import re
    import subprocess

    process = subprocess.Popen([sys.executable, "-m", "integrations.sandbox", "--port", "0", "--state", state_path],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        yield re.search(r"on (http://[\w.]+:\d+)", process.stdout.readline()).group(1)
    finally:
        process.terminate()
        process.wait()


def make_sync():
    from console.accounts.services import sign_up
    from console.connections import services as connections
    from console.datamodels import services as models
    from console.syncs.models import Sync
    from integrations import registry

    user = sign_up("bench@example.com", "correct-horse-battery", "Bench Company")
    organization = user.memberships.get().organization
    salesforce = connections.create_connection(
        organization, name="Salesforce (sandbox)", type_id="salesforce", validate=False,
        configuration={"domain": "bench.my.salesforce.com", "connect_mode": "api", "client_id": "sandbox-client",
                       "client_secret": "sandbox-secret", "oauth_refresh_token": "not-used"})
    salesforce.secrets = {**salesforce.secrets, "oauth_access_token": API_KEY,
                          "oauth_token_expiry": time.time() + 86400}
    salesforce.save()
    hubspot = connections.create_connection(organization, name="HubSpot (sandbox)", type_id="hubspot",
                                            configuration=dict(registry.get("hubspot").demo_configuration),
                                            validate=False)
    model = models.create_model(organization, {"name": "Contacts", "connection_id": str(salesforce.pk),
                                               "configuration": {"table": "Contact"}, "fields": COLUMNS,
                                               "identifier": "Email"})
    return Sync.objects.create(
        organization=organization, name="Contacts to HubSpot", mode="updateOrCreate", model=model,
        target_connection=hubspot, target_object="contacts", skip_initial_backfill=True,
        identity={"source": {"model_id": str(model.pk), "field": "Email"}, "target": "email",
                  "function": "Equality"},
        fields=[{"source": {"model_id": str(model.pk), "field": column}, "target": prop}
                for column, prop in FIELDS.items()],
        created_by=user, updated_by=user,
    )


def minimal_loop(sandbox: str) -> tuple[int, float]:
    """Create the query job, poll it, page its CSV results; nothing else."""
    import httpx

    started = time.perf_counter()
    with httpx.Client(base_url=f"{sandbox}{API}", headers={"Authorization": f"Bearer {API_KEY}"},
                      timeout=600) as http:
        job = http.post("jobs/query", json={"operation": "query",
                                            "query": f"SELECT {', '.join(COLUMNS)} FROM Contact"}).json()
        while http.get(f"jobs/query/{job['id']}").json()["state"] != "JobComplete":
            time.sleep(0.2)
        read, locator = 0, None
        while True:
            params = {"maxRecords": SET_SIZE, **({"locator": locator} if locator else {})}
            response = http.get(f"jobs/query/{job['id']}/results", params=params)
            read += sum(1 for _ in csv.DictReader(io.StringIO(response.text)))
            locator = response.headers.get("Sforce-Locator")
            if not locator or locator == "null":
                break
    return read, time.perf_counter() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=5000, help="rows handed to the engine at a time")
    args = parser.parse_args(argv)

    import subprocess

    import httpx

    from integrations.demo.pgcluster import scratch_database, throwaway_postgres

    with contextlib.ExitStack() as stack:
        server_url = stack.enter_context(throwaway_postgres())
        console_url = as_url(stack.enter_context(scratch_database(server_url, f"sf_bench_{os.getpid()}")))
        redis_url = stack.enter_context(redis_server())
        directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="sf-bench-"))
        state_path = os.path.join(directory, "sandbox.sqlite3")
        print(f"Seeding {args.rows:,} Salesforce Contacts into the sandbox store ...", flush=True)
        seed_sandbox(state_path, args.rows)
        sandbox = stack.enter_context(sandbox_server(state_path))
        httpx.put(f"{sandbox}/_sandbox/settings", json={"salesforce_daily_api_requests": 10**9,
                                                       "salesforce_bulk_seconds": 0}).raise_for_status()

        env = {"DATABASE_URL": console_url, "REDIS_URL": redis_url, "SANDBOX_URL": sandbox,
               "DJANGO_SETTINGS_MODULE": "console.settings", "LOG_LEVEL": "WARNING", "ENGINE_QUEUE": QUEUE,
               "ENGINE_SOURCE_BATCH_SIZE": str(args.batch_size),
               "ENGINE_RATE_LIMITS": json.dumps({"salesforce": [], "hubspot": []}),  # not what is measured
               "ENGINE_HEARTBEAT_SECONDS": "5"}
        os.environ.update(env)
        egress.allow_in_environment(sandbox)
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        sync = make_sync()
        from django.db import connections

        connections.close_all()

        log = stack.enter_context(open(os.path.join(directory, "worker.log"), "wb"))
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "console", "worker", "-P", "solo", "-l", "warning",
             "-Q", QUEUE, "-n", f"{QUEUE}@localhost", "--without-mingle", "--without-gossip"],
            cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
        stack.callback(lambda: (worker.terminate(), worker.wait()))

        print("First run (reads every Contact through Bulk 2.0, records them, sends none) ...", flush=True)
        first, first_seconds = run_and_wait(sync)
        print(f"  {first_seconds:.1f}s, {args.rows / first_seconds:,.0f} rows/s", flush=True)
        httpx.delete(f"{sandbox}/_sandbox/requests").raise_for_status()
        print("Second run (reads them all again; none changed, none sent) ...", flush=True)
        second, second_seconds = run_and_wait(sync)
        worker_mb = peak_rss_mb(worker.pid)
        rules = httpx.get(f"{sandbox}/_sandbox/requests", timeout=30).json().get("rules") or {}
        sent = sum(n for rule, n in rules.items() if rule.startswith("POST /hubspot"))
        print(f"  {second_seconds:.1f}s, {args.rows / second_seconds:,.0f} rows/s", flush=True)

        print("Minimal loop (query job, poll, CSV result sets; nothing else) ...", flush=True)
        minimal_rows, minimal_seconds = minimal_loop(sandbox)

        def verdict(ok):
            return "ok" if ok else "MISSED"

        print()
        print(f"rows                         {args.rows:,} Contacts, {len(COLUMNS)} fields, Bulk API 2.0 query")
        for name, execution, seconds in (("first run", first, first_seconds), ("second run", second, second_seconds)):
            ratio = seconds / minimal_seconds
            print(f"{name:<28} {seconds:.1f}s, {args.rows / seconds:,.0f} rows/s (read {execution.queried:,}, "
                  f"unchanged {execution.unchanged:,}); {ratio:.2f}x the minimal loop   "
                  f"target <= {TARGET_RATIO}x: {verdict(ratio <= TARGET_RATIO)}")
        print(f"  HubSpot writes, 2nd run    {sent} requests   none expected: {verdict(sent == 0)}")
        print(f"worker peak RSS              {worker_mb:.0f} MB (VmHWM of the celery -P solo worker)   "
              f"target <= {TARGET_MB} MB: {verdict(worker_mb <= TARGET_MB)}")
        print(f"minimal loop                 {minimal_seconds:.1f}s, {minimal_rows / minimal_seconds:,.0f} rows/s "
              f"({minimal_rows:,} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
