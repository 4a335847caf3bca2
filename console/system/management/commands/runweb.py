"""The web tier for production: gunicorn, one process per core, threads in each.

    manage.py runweb --bind 0.0.0.0:8000 [--workers N] [--threads N]
"""

import os
import sys

from django.conf import settings
from django.core.management.base import BaseCommand


def gunicorn_command(python: str, bind: str, workers: int, threads: int) -> list[str]:
    return [python, "-m", "gunicorn", "console.wsgi:application", "--bind", bind, "--workers", str(workers),
            "--threads", str(threads), "--worker-class", "gthread", "--access-logfile", "-",
            "--no-control-socket"]  # the control socket lives in $HOME: two servers on one machine would share it


class Command(BaseCommand):
    help = "Serve the console with gunicorn: one worker process per core, WEB_THREADS threads in each."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1:8000", help="address:port to listen on")
        parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes (default: cores)")
        parser.add_argument("--threads", type=int, default=None, help="threads per process (default: WEB_THREADS)")

    def handle(self, *args, bind="127.0.0.1:8000", workers=1, threads=None, **options):
        command = gunicorn_command(sys.executable, bind, workers, threads or settings.WEB_THREADS)
        sys.stdout.flush()
        os.execv(command[0], command)
