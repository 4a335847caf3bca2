"""The web tier under load: one gunicorn process, then one per core.

    python bench/web_tier.py [--requests 600] [--syncs 20]

Fills an organization (load_history's fill, in a database of its own), serves the
console with gunicorn as `manage.py runweb` does (WEB_THREADS threads per process),
and sends GET /api/syncs, GET /api/connections and the /syncs page in turn from 20
concurrent clients on loopback: requests/s and p95 with 1 process and with one per
core. Then p95 per kind (pages, API lists) at 10 clients with one process per core.
Targets: one per core >= 1.7x the single process's throughput (with 2 cores),
p95 <= 150 ms for pages and <= 100 ms for API lists at 10 clients. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load_history import (  # noqa: E402
    API_TARGET_MS,
    PAGE_TARGET_MS,
    database,
    fill,
    redis_server,
    wait_for_port,
)
from integrations.demo.warehouse import free_port  # noqa: E402

TARGET_SPEEDUP = 1.7
MIX = (("api", "/api/syncs"), ("api", "/api/connections"), ("page", "/syncs"))


def load(base: str, ids: dict, clients: int, requests: int) -> tuple[float, dict]:
    """(requests/s, {kind: client times in ms}) of `requests` GETs of MIX in turn from `clients` threads."""
    import httpx

    times, failures, lock = {"api": [], "page": []}, [], threading.Lock()

    def client(count, offset):
        headers = {"Authorization": f"Bearer {ids['key']}", "Cookie": f"sessionid={ids['session']}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            http.get(MIX[0][1])  # warm this connection
            for n in range(count):
                kind, path = MIX[(n + offset) % len(MIX)]
                started = time.perf_counter()
                response = http.get(path)
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    (times[kind] if response.status_code == 200 else failures).append(elapsed)

    threads = [threading.Thread(target=client, args=(requests // clients, n)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} requests failed")
    return sum(map(len, times.values())) / seconds, times


def p95(values) -> float:
    return statistics.quantiles(values, n=100)[94]


@contextlib.contextmanager
def gunicorn(env: dict, workers: int):
    from console.system.management.commands.runweb import gunicorn_command

    port = free_port()
    command = gunicorn_command(sys.executable, f"127.0.0.1:{port}", workers, int(env.get("WEB_THREADS", 16)))
    command = [part for part in command if part not in ("--access-logfile", "-")]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=600, help="per measurement")
    parser.add_argument("--syncs", type=int, default=20)
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file instead of PostgreSQL")
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(database(args.sqlite))
        redis_url = stack.enter_context(redis_server())
        env = {"DATABASE_URL": url, "REDIS_URL": redis_url, "API_RATE_LIMIT_PER_MINUTE": "100000000",
               "DJANGO_SETTINGS_MODULE": "console.settings", "LOG_LEVEL": "WARNING"}
        os.environ.update(env)
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        print(f"Filling one organization: {args.syncs} syncs ...", flush=True)
        ids = fill(args.syncs, args.syncs * 51, 1000)
        from django.db import connections

        connections.close_all()
        env = {**os.environ, **env}

        print(f"\n{args.requests} requests of {', '.join(path for _, path in MIX)} in turn ({cores} CPUs)")
        rates = {}
        for workers in sorted({1, cores}):
            with gunicorn(env, workers) as base:
                load(base, ids, 20, 60)  # every process has its application loaded
                rate, times = load(base, ids, 20, args.requests)
                rates[workers] = rate
                print(f"{workers} process(es), 20 clients   {rate:7.1f} requests/s   "
                      f"p95 {p95(times['api'] + times['page']):6.1f} ms", flush=True)
                if workers == cores:
                    _, times = load(base, ids, 10, args.requests)
                    for kind, target in (("page", PAGE_TARGET_MS), ("api", API_TARGET_MS)):
                        value = p95(times[kind])
                        print(f"{cores} process(es), 10 clients   {kind + 's':<5} p95 {value:6.1f} ms   "
                              f"target <= {target} ms: {'ok' if value <= target else 'MISSED'}")
        if cores > 1:
            speedup = rates[cores] / rates[1]
            print(f"one per core / one process   {speedup:.2f}x   target >= {TARGET_SPEEDUP}x: "
                  f"{'ok' if speedup >= TARGET_SPEEDUP else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
