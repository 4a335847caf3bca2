"""Streaming speed and memory of PostgresSource.stream.

    python bench/stream_postgres.py [--rows 1000000] [--url postgresql://...] [--batch-size 5000]

Loads N demo `users` rows (COPY) into schema `bench` of the given database
(or of a throwaway cluster it starts from Debian's postgresql binaries),
then streams them through PostgresSource.stream in a fresh child process and
prints rows/s and that process's peak RSS (VmHWM). The schema is dropped
afterwards. Target: under 150 MB peak RSS for 1,000,000 rows.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from integrations import egress  # noqa: E402

TARGET_MB = 150


def peak_rss_kb() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


def stream(config: dict, query: str, batch_size: int) -> dict:
    """The child's work: stream everything, touch every row, report."""
    from integrations.warehouses.postgresql import PostgresSource

    with PostgresSource(config) as source:
        source.check()
        before = peak_rss_kb()
        started = time.perf_counter()
        rows = batches = 0
        for batch in source.stream(query, batch_size=batch_size):
            rows += len(batch)
            batches += 1
        seconds = time.perf_counter() - started
    return {"rows": rows, "batches": batches, "seconds": seconds,
            "peak_rss_kb_before": before, "peak_rss_kb": peak_rss_kb()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--url", default=os.environ.get("BENCH_POSTGRES_URL"),
                        help="a database to load into (default: a throwaway cluster)")
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--child", help=argparse.SUPPRESS)  # JSON config: stream and report
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(stream(json.loads(args.child), "SELECT * FROM bench.users", args.batch_size)))
        return 0

    import psycopg

    from integrations.demo.pgcluster import source_config, throwaway_postgres
    from integrations.demo.warehouse import load_postgres

    with contextlib.ExitStack() as stack:
        url = args.url or stack.enter_context(throwaway_postgres())
        print(f"PostgreSQL: {'given URL' if args.url else 'throwaway cluster'}; loading {args.rows:,} users rows ...",
              flush=True)
        started = time.perf_counter()
        load_postgres(url, args.rows, tables=("users",), schema="bench")
        load_seconds = time.perf_counter() - started
        print(f"loaded in {load_seconds:.1f}s ({args.rows / load_seconds:,.0f} rows/s with COPY)", flush=True)
        config = source_config(url)
        egress.allow_in_environment(f"{config['hostname']}:{config['port']}")
        try:
            child = subprocess.run(
                [sys.executable, __file__, "--child", json.dumps(config),
                 "--batch-size", str(args.batch_size)],
                capture_output=True, text=True, cwd=ROOT,
            )
            if child.returncode != 0:
                print(child.stderr, file=sys.stderr)
                return 1
            result = json.loads(child.stdout.strip().splitlines()[-1])
        finally:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("DROP SCHEMA IF EXISTS bench CASCADE")

    peak_mb = result["peak_rss_kb"] / 1024
    print(f"streamed {result['rows']:,} rows in {result['batches']} batches of {args.batch_size} "
          f"in {result['seconds']:.1f}s: {result['rows'] / result['seconds']:,.0f} rows/s")
    print(f"peak RSS of the streaming process: {peak_mb:.1f} MB "
          f"({result['peak_rss_kb_before'] / 1024:.1f} MB before streaming; target < {TARGET_MB} MB)")
    if result["rows"] != args.rows:
        print(f"expected {args.rows:,} rows", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
