"""The console on several hosts: separate processes, each in a working directory of its own
(its own VAR_DIR), started as the role commands start them (runweb, runworker, runbeat) and sharing
only PostgreSQL, Redis and the keys:

- two web processes (gunicorn) on different ports: syncs are created on one, started on the other;
- three workers: two for long runs, one for short tasks (webhooks, schedule ticks, discovery);
- two beats.

20 syncs started at once all complete; the worker running a long sync is killed with SIGKILL
and, after the beats' sweep, every record is in the sandbox exactly once; each scheduled sync
fires once though two beats tick; a webhook is delivered while runs still wait in their queue.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.utils import timezone

from console.celery import app as celery_app
from console.engine.models import Execution, Webhook
from console.syncs.models import Sync
from console.system.management.commands.runbeat import beat_command
from console.system.management.commands.runweb import gunicorn_command
from console.system.management.commands.runworker import worker_command
from tests.conftest import ROOT, free_port, wait_for_port

from .test_cancel_and_recovery import assert_each_person_once_and_enrolled_once
from .test_seed_000 import seed_000_sync

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                       reason="several hosts share one PostgreSQL; SQLite is one file on one machine "
                              "(set DATABASE_URL to a PostgreSQL server)"),
]

SHORT_SYNCS = 20
LONG_ROWS = 30
SCHEDULED = 3
QUERY = "SELECT email, first_name, last_name FROM {table}"
TERMINAL = ("completed", "failed", "canceled", "interrupted")


class Hosts:
    """Processes started as on separate machines; stopped (or killed) at the end."""

    def __init__(self, env: dict, root: Path):
        self.env = env
        self.root = root
        self.processes = {}

    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        home = self.root / name  # the host's own working directory and VAR_DIR
        home.mkdir()
        with open(home / "out.log", "wb") as log:
            self.processes[name] = subprocess.Popen(
                command, cwd=home,
                env={**self.env, "VAR_DIR": str(home)}, stdout=log, stderr=subprocess.STDOUT)
        return self.processes[name]

    def log(self, name: str) -> str:
        return (self.root / name / "out.log").read_text(errors="replace")

    def tails(self) -> str:
        return "\n".join(f"--- {name}\n{self.log(name)[-1500:]}" for name in self.processes)

    def stop(self):
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout:.0f}s")


@pytest.fixture
def hosts(e2e, worker_env, monkeypatch, tmp_path):
    """Two web processes, three workers (two on the runs' queue, one on the short tasks') and two beats."""
    queues = {"ENGINE_QUEUE": f"hosts-{os.getpid()}-runs", "ENGINE_SHORT_QUEUE": f"hosts-{os.getpid()}-short"}
    for name, value in queues.items():
        monkeypatch.setenv(name, value)  # the test process sends to the same queues
    env = {**worker_env, **queues, "PYTHONPATH": str(ROOT), "SECRET_KEY": settings.SECRET_KEY,
           "ENCRYPTION_KEYS": ",".join(settings.ENCRYPTION_KEYS), "WEB_THREADS": "4", "PROBE_CONCURRENCY": "2"}
    hosts = Hosts(env, tmp_path)
    hosts.web = []
    try:
        for index in (1, 2):
            port = free_port()
            hosts.start(f"web{index}", gunicorn_command(sys.executable, f"127.0.0.1:{port}", 1, 4))
            hosts.web.append(f"http://127.0.0.1:{port}")
        node = uuid.uuid4().hex[:6]
        hosts.workers = {f"runs{index}@{node}": f"worker-runs{index}" for index in (1, 2)}
        for name, host in hosts.workers.items():
            hosts.start(host, worker_command(sys.executable, queues["ENGINE_QUEUE"], 3, name, "threads"))
        hosts.start("worker-short", worker_command(sys.executable, queues["ENGINE_SHORT_QUEUE"], 2, f"short@{node}",
                                                   "threads"))
        for beat in ("beat1", "beat2"):
            hosts.start(beat, beat_command(sys.executable, tmp_path / beat / "celerybeat-schedule"))
        try:
            for url in hosts.web:
                wait_for_port(int(url.rsplit(":", 1)[1]), timeout=120)
            names = {*hosts.workers, f"short@{node}"}
            wait_until(lambda: names <= {name for reply in celery_app.control.ping(timeout=1) or [] for name in reply},
                       120, "the three workers answered")
        except (RuntimeError, AssertionError) as error:
            raise AssertionError(f"{error}\n{hosts.tails()}") from None
        yield hosts
    finally:
        hosts.stop()


def people_table(warehouse, prefix: str, rows: int) -> str:
    table = f"people_{prefix}_{uuid.uuid4().hex[:6]}"
    warehouse.execute(f"CREATE TABLE {table} (email VARCHAR, first_name VARCHAR, last_name VARCHAR)")
    values = ", ".join(f"('{prefix}{n}@hosts.example', 'First{n}', 'Last{n}')" for n in range(rows))
    warehouse.execute(f"INSERT INTO {table} VALUES {values}")
    return table


def running_on(execution_id: str) -> str | None:
    """The name of the worker running this execution's task."""
    active = celery_app.control.inspect(timeout=1).active() or {}
    return next((name for name, tasks in active.items() if any(execution_id in task["args"] for task in tasks)),
                None)


def status_counts() -> dict:
    counts = {}
    for status in Execution.objects.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


def test_web_workers_and_beats_on_several_hosts(hosts, e2e, warehouse, connection_of, model_of, api_key,
                                                http_receiver):
    inspector = e2e
    inspector.settings(salesloft_allow_duplicate_emails=True)  # a person created twice shows as two
    inspector.faults(latency_ms=100, path="/salesloft/v2/")  # runs last long enough to be caught mid-way
    snowflake, salesloft = connection_of("snowflake"), connection_of("salesloft")
    web = [httpx.Client(base_url=url, headers={"Authorization": f"Bearer {api_key}"}, timeout=60)
           for url in hosts.web]
    emails = []

    def create_sync(prefix, rows, on, **extra) -> str:
        table = people_table(warehouse, prefix, rows)
        emails.extend(f"{prefix}{n}@hosts.example" for n in range(rows))
        model = model_of(snowflake, QUERY.format(table=table), ["email", "first_name", "last_name"])
        response = on.post("/api/syncs", json={**seed_000_sync(model, salesloft), "name": prefix, **extra})
        assert response.status_code == 200, response.text
        return response.json()["data"]["id"]

    def start(sync_id, on) -> str:
        response = on.post(f"/api/syncs/{sync_id}/executions", json={})
        assert response.status_code == 200, response.text
        return response.json()["data"]["id"]

    # syncs are created on one web process and started on the other
    long_sync = create_sync("long", LONG_ROWS, web[0])
    short_syncs = [create_sync(f"s{n}x", 2, web[n % 2]) for n in range(SHORT_SYNCS)]
    tomorrow = (timezone.now() + timedelta(hours=12)).hour
    scheduled = [create_sync(f"t{n}x", 1, web[1], schedule={"frequency": "daily", "hour": str(tomorrow), "minute": "0"})
                 for n in range(SCHEDULED)]

    long_execution = start(long_sync, web[1])
    wait_until(lambda: Execution.objects.filter(pk=long_execution, inserted__gte=3).exists(), 60,
               "the long run made progress")

    # the worker running the long sync dies mid-run; the beats' sweep hands its run to the other
    holder = wait_until(lambda: running_on(long_execution), 30, "a worker reported the long run")
    hosts.processes[hosts.workers[holder]].send_signal(signal.SIGKILL)
    hosts.processes[hosts.workers[holder]].wait()
    killed = Execution.objects.get(pk=long_execution)
    assert killed.status == "running" and killed.inserted < LONG_ROWS

    for n, sync_id in enumerate(short_syncs):
        start(sync_id, web[n % 2])

    # a webhook made now is delivered by the short tasks' worker while runs still wait in their queue
    webhook = Webhook(organization_id=Sync.objects.get(pk=long_sync).organization_id, endpoint=http_receiver.url)
    webhook.secret = "whsec-hosts"
    webhook.save()
    wait_until(lambda: http_receiver.requests, 60, "a webhook delivery arrived")
    assert status_counts().get("queued", 0) > 0, "the webhook was delivered only once the runs' queue drained"

    # the scheduled syncs fall due with both beats running
    ticks = {beat: hosts.log(beat).count("Sending due task engine-dispatch-due-syncs") for beat in ("beat1", "beat2")}
    Sync.objects.filter(pk__in=scheduled).update(next_run_at=timezone.now() - timedelta(seconds=1))
    wait_until(lambda: all(hosts.log(beat).count("Sending due task engine-dispatch-due-syncs") > ticks[beat]
                           for beat in ticks), 60, "both beats ticked")

    every = [long_sync, *short_syncs, *scheduled]
    wait_until(lambda: Execution.objects.filter(sync_id__in=every).exclude(status__in=TERMINAL).count() == 0
               and Execution.objects.filter(sync_id__in=scheduled).count() >= SCHEDULED, 150, "every run ended")
    finals = {str(e.sync_id): e for e in Execution.objects.filter(sync_id__in=every)}
    assert {e.status for e in finals.values()} == {"completed"}, [(e.sync_id, e.status, e.error) for e in
                                                                   finals.values() if e.status != "completed"]
    assert finals[long_sync].attempt == 2  # resumed after the kill
    for sync_id in scheduled:
        fired = Execution.objects.filter(sync_id=sync_id)
        assert [e.trigger for e in fired] == ["schedule"], "a scheduled sync fired once for its tick"
    assert all(Execution.objects.filter(sync_id=sync_id).count() == 1 for sync_id in [long_sync, *short_syncs])
    assert_each_person_once_and_enrolled_once(inspector, emails)
