"""Two workers sharing Salesloft's per-minute cost budget on one connection.

    python bench/salesloft_budget.py [--rows 900]

Starts a throwaway PostgreSQL cluster, Redis and the sandbox (which enforces
Salesloft's documented 600 cost per minute per team), generates N people and
syncs them to Salesloft people (upsert by email, one call per record: the model is read
in batches smaller than the bulk-job threshold, see seed000_cadence.py for bulk jobs) with two
syncs over the two halves of the rows, on the same connection, each run by its
own `celery worker -P solo` process. The engine's Redis limiter is shared by
both. Prints the achieved request rate, the share of the budget used (the least
time the fixed one-minute windows allow for the calls made, over the time taken;
target >= 90%), the 429s the sandbox answered, and whether every row arrived
(sandbox inspection). The window is Salesloft's minute, so a run takes about
ceil(rows / 600) - 1 minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load_history import as_url, redis_server  # noqa: E402
from bench.engine_hubspot import sandbox_server  # noqa: E402
from integrations import egress  # noqa: E402
from integrations.salesloft.writer import BULK_THRESHOLD  # noqa: E402

BUDGET_PER_MINUTE = 600
TARGET_SHARE = 0.90
QUEUES = [f"budget-{os.getpid()}-{n}" for n in (1, 2)]


def generate_people(url: str, rows: int):
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS bench CASCADE")
        conn.execute("CREATE SCHEMA bench")
        conn.execute(f"""
            CREATE TABLE bench.people AS
            SELECT g AS id, 'budget' || g || '@example.com' AS email, 'First' || g AS first_name,
                   'Last' || g AS last_name
            FROM generate_series(1, {int(rows)}) AS g""")


def make_syncs(source_url: str) -> list:
    from console.accounts.services import sign_up
    from console.connections import services as connections
    from console.datamodels.models import DataModel, ModelField
    from console.syncs.models import Sync
    from integrations import registry
    from integrations.demo.pgcluster import source_config

    user = sign_up("budget@example.com", "correct-horse-battery", "Budget Company")
    organization = user.memberships.get().organization
    warehouse = connections.create_connection(organization, name="Bench PostgreSQL", type_id="postgresql",
                                              configuration=source_config(source_url), validate=False)
    salesloft = connections.create_connection(organization, name="Salesloft (sandbox)", type_id="salesloft",
                                              configuration=dict(registry.get("salesloft").demo_configuration),
                                              validate=False)
    syncs = []
    for half in (0, 1):
        model = DataModel.objects.create(
            organization=organization, connection=warehouse, name=f"People, half {half + 1}",
            configuration={"query": f"SELECT email, first_name, last_name FROM bench.people WHERE id % 2 = {half}"})
        for position, name in enumerate(["email", "first_name", "last_name"]):
            ModelField.objects.create(model=model, name=name, type="string", position=position)
        syncs.append(Sync.objects.create(
            organization=organization, name=f"Half {half + 1} to Salesloft", mode="updateOrCreate", model=model,
            target_connection=salesloft, target_object="people",
            identity={"source": {"model_id": str(model.pk), "field": "email"}, "target": "Email",
                      "function": "Equality"},
            fields=[{"source": {"model_id": str(model.pk), "field": column}, "target": column}
                    for column in ("first_name", "last_name")],
            created_by=user, updated_by=user,
        ))
    return syncs


def budget_services(stack, name: str, engine_env: dict) -> tuple:
    """A throwaway PostgreSQL (the source, and the console's database), Redis and the sandbox
    enforcing Salesloft's budget, Django migrated on them: (PostgreSQL URL, sandbox URL, a
    scratch folder, the workers' environment)."""
    import django
    import httpx
    from django.core.management import call_command

    from integrations.demo.pgcluster import scratch_database, throwaway_postgres

    server_url = stack.enter_context(throwaway_postgres())
    console_url = as_url(stack.enter_context(scratch_database(server_url, f"{name}_bench_{os.getpid()}")))
    redis_url = stack.enter_context(redis_server())
    directory = stack.enter_context(tempfile.TemporaryDirectory(prefix=f"{name}-bench-"))
    sandbox = stack.enter_context(sandbox_server(os.path.join(directory, "sandbox.sqlite3")))
    httpx.put(f"{sandbox}/_sandbox/settings", json={"salesloft_cost_per_minute": BUDGET_PER_MINUTE}).raise_for_status()
    env = {"DATABASE_URL": console_url, "REDIS_URL": redis_url, "SANDBOX_URL": sandbox,
           "DJANGO_SETTINGS_MODULE": "console.settings", "LOG_LEVEL": "WARNING", **engine_env}
    os.environ.update(env)
    egress.allow_in_environment(sandbox, server_url)  # the sandbox, and the PostgreSQL source
    django.setup()
    call_command("migrate", verbosity=0)
    return server_url, sandbox, directory, env


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1500)
    args = parser.parse_args(argv)

    import httpx

    with contextlib.ExitStack() as stack:
        batches = {"ENGINE_SOURCE_BATCH_SIZE": str(BULK_THRESHOLD - 1)}  # one upsert call per record
        server_url, sandbox, directory, env = budget_services(stack, "budget", batches)
        generate_people(server_url, args.rows)
        syncs = make_syncs(server_url)
        people_before = len(httpx.get(f"{sandbox}/_sandbox/state/salesloft/people").json()["data"])
        from django.db import connections

        connections.close_all()

        workers = []
        for queue in QUEUES:
            log = stack.enter_context(open(os.path.join(directory, f"{queue}.log"), "wb"))
            worker = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "console", "worker", "-P", "solo", "-l", "warning",
                 "-Q", queue, "-n", f"{queue}@localhost", "--without-mingle", "--without-gossip"],
                cwd=ROOT, env={**os.environ, **env, "ENGINE_QUEUE": queue}, stdout=log, stderr=subprocess.STDOUT)
            workers.append(worker)
            stack.callback(lambda w=worker: (w.terminate(), w.wait()))

        from console.engine import services
        from console.engine.models import Execution

        httpx.delete(f"{sandbox}/_sandbox/requests").raise_for_status()
        print(f"Syncing {args.rows:,} people to one Salesloft connection from two workers "
              f"(budget {BUDGET_PER_MINUTE} cost/minute) ...", flush=True)
        executions = []
        for sync, queue in zip(syncs, QUEUES):
            os.environ["ENGINE_QUEUE"] = queue  # each sync's run goes to its own worker
            executions.append(services.start_execution(sync))
        deadline = time.monotonic() + 1800
        while True:
            runs = [Execution.objects.get(pk=e.pk) for e in executions]
            if all(r.status in ("completed", "failed", "canceled", "interrupted") for r in runs):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the runs did not finish in 30 minutes")
            time.sleep(0.5)

        report = httpx.get(f"{sandbox}/_sandbox/requests").json()
        requests = report["providers"].get("salesloft", 0)
        people = httpx.get(f"{sandbox}/_sandbox/state/salesloft/people").json()["data"]
        arrived = len({p["email_address"].lower() for p in people if p["email_address"].startswith("budget")})
        accepted = sum(r.inserted + r.updated for r in runs)
        refused = requests - accepted  # one upsert call per record: every other call was a 429
        started = min(r.started_at for r in runs)
        ended = max(r.completed_at for r in runs)
        seconds = (ended - started).total_seconds()
        rate = accepted / seconds * 60
        # Salesloft's budget is a fixed one-minute window: the fastest any client can go is a
        # full budget at the opening of each window, so N calls need (ceil(N / budget) - 1) minutes.
        least_seconds = (math.ceil(accepted / BUDGET_PER_MINUTE) - 1) * 60
        share = least_seconds / seconds if least_seconds else rate / BUDGET_PER_MINUTE
        print()
        for run in runs:
            print(f"run {run.sync.name:<24} {run.status}: queried {run.queried}, inserted {run.inserted}, "
                  f"errored {run.errored}{' - ' + run.error if run.error else ''}")
        print(f"elapsed                      {seconds:.1f}s for {accepted:,} accepted calls")
        print(f"achieved rate                {rate:.0f} calls/minute over the run (the first window's burst "
              f"included)")
        print(f"budget use                   {least_seconds}s is the least the budget allows for "
              f"{accepted:,} calls; took {seconds:.1f}s = {share:.0%}   "
              f"target >= {TARGET_SHARE:.0%}: {'ok' if share >= TARGET_SHARE else 'MISSED'}")
        print(f"429s answered                {refused:,} (sandbox requests {requests:,} - accepted {accepted:,})")
        print(f"records in the sandbox       {arrived:,} of {args.rows:,} rows "
              f"(people before {people_before}, now {len(people)})   "
              f"no record lost: {'ok' if arrived == args.rows else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
