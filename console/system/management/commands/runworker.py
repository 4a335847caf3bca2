"""One Celery worker, for the queues given (both by default): `manage.py runworker --queues interactive`."""

import os
import sys

from django.core.management.base import BaseCommand

from console.engine.conf import setting


def all_queues() -> str:
    """The long runs' queue and the short tasks' queue, comma-separated."""
    return f"{setting('ENGINE_QUEUE')},{setting('ENGINE_SHORT_QUEUE')}"


def worker_command(python: str, queues: str, concurrency: int, name: str = "", pool: str = "") -> list[str]:
    """name: the node name, unique per worker (celery's default, celery@<host>, suits one per host)."""
    return [python, "-m", "celery", "-A", "console", "worker", "-l", "info", "-Q", queues,
            "--concurrency", str(concurrency), *(["-n", name] if name else []), *(["-P", pool] if pool else [])]


class Command(BaseCommand):
    help = "Run a Celery worker for the given queues (long runs and short tasks by default)."

    def add_arguments(self, parser):
        parser.add_argument("--queues", default=None,
                            help="comma-separated; ENGINE_QUEUE (long runs), ENGINE_SHORT_QUEUE (short tasks)")
        parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 1,
                            help="tasks run at once (default: one per core)")
        parser.add_argument("--name", default="", help="node name, unique per worker (default: celery@<host>)")
        parser.add_argument("--pool", default="", help="prefork (default), threads or solo")

    def handle(self, *args, queues=None, concurrency=1, name="", pool="", **options):
        command = worker_command(sys.executable, queues or all_queues(), concurrency, name, pool)
        sys.stdout.flush()
        os.execv(command[0], command)  # the worker takes this process: signals reach it directly
