"""Seed 000's sync: people from a warehouse into a Salesloft cadence, under Salesloft's budget.

    python bench/seed000_cadence.py [--rows 5000]

Starts a throwaway PostgreSQL cluster, Redis and the sandbox (enforcing Salesloft's 600
cost per minute per team, in real time: its clock is not sped up), generates N people and
runs one cadence sync (upsert by email, then add to the cadence) on a `celery worker -P
solo`. People are upserted by bulk jobs; the cadence memberships cannot be batched (one
call per person), so the budget sets a floor of N / 600 minutes. Prints the time, its
ratio to that floor (target <= 1.15x), the calls by kind (429s included) and whether every
person arrived exactly once and is on the cadence.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.salesloft_budget import BUDGET_PER_MINUTE, budget_services, generate_people  # noqa: E402

TARGET_RATIO = 1.15
CADENCE_ID = 11
QUEUE = f"seed000-{os.getpid()}"


def make_sync(source_url: str):
    from console.accounts.services import sign_up
    from console.connections import services as connections
    from console.datamodels.models import DataModel, ModelField
    from console.syncs.models import Sync
    from integrations import registry
    from integrations.demo.pgcluster import source_config

    user = sign_up("seed000@example.com", "correct-horse-battery", "Seed 000 Company")
    organization = user.memberships.get().organization
    warehouse = connections.create_connection(organization, name="Bench PostgreSQL", type_id="postgresql",
                                              configuration=source_config(source_url), validate=False)
    salesloft = connections.create_connection(organization, name="Salesloft (sandbox)", type_id="salesloft",
                                              configuration=dict(registry.get("salesloft").demo_configuration),
                                              validate=False)
    model = DataModel.objects.create(organization=organization, connection=warehouse, name="Active Users",
                                     configuration={"query": "SELECT email, first_name, last_name FROM bench.people"})
    for position, name in enumerate(["email", "first_name", "last_name"]):
        ModelField.objects.create(model=model, name=name, type="string", position=position)
    fields = {"first_name": "FirstName", "last_name": "LastName"}
    return Sync.objects.create(
        organization=organization, name="Active users into the cadence", mode="updateOrCreate", model=model,
        target_connection=salesloft, target_object=f"cadence:{CADENCE_ID}",
        identity={"source": {"model_id": str(model.pk), "field": "email"}, "target": "Email",
                  "function": "Equality"},
        fields=[{"source": {"model_id": str(model.pk), "field": column}, "target": target}
                for column, target in fields.items()],
        created_by=user, updated_by=user,
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args(argv)

    import httpx

    with contextlib.ExitStack() as stack:
        server_url, sandbox, directory, env = budget_services(stack, "seed000", {"ENGINE_QUEUE": QUEUE})
        generate_people(server_url, args.rows)
        sync = make_sync(server_url)
        from django.db import connections

        connections.close_all()
        log = stack.enter_context(open(os.path.join(directory, "worker.log"), "wb"))
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "console", "worker", "-P", "solo", "-l", "warning",
             "-Q", QUEUE, "-n", f"{QUEUE}@localhost", "--without-mingle", "--without-gossip"],
            cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
        stack.callback(lambda: (worker.terminate(), worker.wait()))

        from console.engine import services
        from console.engine.models import Execution

        httpx.delete(f"{sandbox}/_sandbox/requests").raise_for_status()
        floor = args.rows / BUDGET_PER_MINUTE * 60
        print(f"Syncing {args.rows:,} people into a Salesloft cadence (budget {BUDGET_PER_MINUTE} cost/minute, "
              f"floor {floor:.0f}s for the memberships) ...", flush=True)
        execution = services.start_execution(sync)
        deadline = time.monotonic() + 3600
        while True:
            run = Execution.objects.get(pk=execution.pk)
            if run.status in ("completed", "failed", "canceled", "interrupted"):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the run did not finish in an hour")
            time.sleep(0.5)

        report = httpx.get(f"{sandbox}/_sandbox/requests").json()
        rules = Counter({rule.replace("/salesloft/v2", "").removesuffix(".json"): n
                         for rule, n in report["rules"].items() if "/salesloft/" in rule})
        people = [p for p in httpx.get(f"{sandbox}/_sandbox/state/salesloft/people").json()["data"]
                  if p["email_address"].startswith("budget")]
        emails = Counter(p["email_address"].lower() for p in people)
        on_cadence = {m["person_id"] for m in httpx.get(f"{sandbox}/_sandbox/state/salesloft/cadence_memberships")
                      .json()["data"] if m["cadence_id"] == CADENCE_ID and m["currently_on_cadence"]}
        seconds = (run.completed_at - run.started_at).total_seconds()
        ratio = seconds / floor
        print()
        print(f"run                          {run.status}: queried {run.queried}, inserted {run.inserted}, "
              f"errored {run.errored}{' - ' + run.error if run.error else ''}")
        print(f"elapsed                      {seconds:.1f}s ({seconds / 60:.2f} min)")
        print(f"floor                        {floor:.1f}s: {args.rows:,} memberships at {BUDGET_PER_MINUTE}/minute")
        print(f"ratio to the floor           {ratio:.3f}x   target <= {TARGET_RATIO}x: "
              f"{'ok' if ratio <= TARGET_RATIO else 'MISSED'}")
        for rule, count in sorted(rules.items(), key=lambda item: -item[1]):
            print(f"  calls {rule:<40} {count:,}")
        print(f"people in the sandbox        {len(emails):,} of {args.rows:,}, "
              f"duplicated {sum(1 for n in emails.values() if n > 1)}; on the cadence "
              f"{len(on_cadence & {p['id'] for p in people}):,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
