"""End to end: executions started through the API, run by a real Celery worker process
on the test database and Redis, reading the demo warehouse (fakesnow in a child
process) and writing to the sandbox over HTTP. The sandbox's inspection API proves
what arrived.

The worker listens on a queue of its own, so the plain worker of tests/conftest.py
(which does not know the sandbox) never takes these runs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import httpx
import pytest
from django.test import Client

from console.celery import app as celery_app
from console.connections.models import Connection
from console.datamodels.models import DataModel, ModelField
from integrations.demo import warehouse as demo
from integrations.warehouses.snowflake import SnowflakeSource
from tests.conftest import ROOT, allow_egress, database_url_for_tests
from tests.sandbox.conftest import sandbox, sandbox_server  # noqa: F401  (fixtures)
from tests.shared import shared
from tests.targets.sessions import access_token
from tests.writers.conftest import Inspector

from .receiver import HttpReceiver

ROWS = 40  # rows per demo table
SNOWFLAKE = {"account": "uc193736182", "username": "user", "dbname": "database"}
QUEUE = f"e2e-{os.getpid()}"
WORKER_ENV = {
    "ENGINE_QUEUE": QUEUE,
    "ENGINE_SHORT_QUEUE": f"{QUEUE}-short",
    "ENGINE_SOURCE_BATCH_SIZE": "5",  # small batches: cancel and kill land mid-run
    "ENGINE_HEARTBEAT_SECONDS": "1",
    "ENGINE_STALE_SECONDS": "4",
}
TERMINAL = ("completed", "failed", "canceled", "interrupted")


class Worker:
    """One `celery worker` process for the e2e queue; can be killed and started again."""

    def __init__(self, env: dict, log_path):
        self.env = env
        self.log_path = log_path
        self.process = None
        self.name = None

    def start(self):
        self.name = f"e2e-{uuid.uuid4().hex[:8]}@localhost"
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "console", "worker", "-l", "info", "-P", "threads",
                 "-c", "2", "-n", self.name, "-Q", self.queues(), "--without-mingle",
                 "--without-gossip"],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log()}")
            if any(self.name in reply for reply in (celery_app.control.ping(timeout=0.5) or [])):
                return self
        self.kill()
        raise RuntimeError(f"worker did not answer:\n{self.log()}")

    def queues(self) -> str:
        return ",".join(filter(None, (self.env["ENGINE_QUEUE"], self.env.get("ENGINE_SHORT_QUEUE"))))

    def kill(self):
        """SIGKILL: no warm shutdown, no acknowledgement, the heartbeat stops."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory):
    # shared: the suites that import these fixtures and the e2e worker see one warehouse, receiver and worker
    with shared("demo_warehouse", lambda: demo.running_fakesnow(tmp_path_factory.mktemp("e2e-fakesnow"),
                                                                 rows=ROWS)) as endpoint:
        allow_egress(endpoint)
        yield endpoint


@pytest.fixture(scope="session")
def http_receiver_server():
    with shared("http_receiver", HttpReceiver) as receiver:
        allow_egress(receiver.url)
        yield receiver


@pytest.fixture
def http_receiver(http_receiver_server):
    """A tenant's own HTTP endpoint (tests/e2e/receiver.py), emptied for each test; the
    e2e worker may reach it."""
    http_receiver_server.reset()
    return http_receiver_server


@pytest.fixture(scope="session")
def worker_env(redis_url, sandbox_server, demo_warehouse, http_receiver_server, worker_files):  # noqa: F811
    # exactly the servers the runs may reach: every other loopback port stays refused
    allowed = ",".join(allow_egress(url) for url in (sandbox_server.url, demo_warehouse, http_receiver_server.url))
    return dict(os.environ, REDIS_URL=redis_url, DATABASE_URL=database_url_for_tests(),
                SANDBOX_URL=sandbox_server.url, SNOWFLAKE_ENDPOINT=demo_warehouse, EGRESS_ALLOW=allowed,
                FILE_CONNECTIONS_DIR=str(worker_files), **WORKER_ENV)


@pytest.fixture(scope="session")
def e2e_worker(django_db_setup, worker_env, tmp_path_factory):
    with shared("e2e_worker", lambda: Worker(worker_env, tmp_path_factory.mktemp("e2e-worker") / "worker.log")) \
            as worker:
        yield worker


@pytest.fixture
def e2e(e2e_worker, sandbox, demo_warehouse, settings, monkeypatch, transactional_db):  # noqa: F811
    """The test process sends runs to the e2e queue and validates syncs against the sandbox."""
    for name, value in WORKER_ENV.items():
        monkeypatch.setenv(name, value)
    settings.SANDBOX_URL = sandbox.url
    settings.SNOWFLAKE_ENDPOINT = demo_warehouse
    inspector = Inspector(sandbox.url)
    inspector.settings(salesloft_cost_per_minute=100_000, linkedin_segment_ready_seconds=1)
    return inspector


class Warehouse:
    """SQL on the demo warehouse; each test copies the rows it needs into its own table."""

    def __init__(self, endpoint):
        self.source = SnowflakeSource({**SNOWFLAKE, "password": "secret"}, endpoint=endpoint)
        self.connection = self.source._connect()

    def execute(self, sql: str) -> list[tuple]:
        cursor = self.connection.cursor()
        cursor.execute(sql)
        try:
            return cursor.fetchall()
        except Exception:  # noqa: BLE001 - statements without a result
            return []

    def copy(self, table: str, rows: int | None = None, where: str = "") -> str:
        name = f"{table}_{uuid.uuid4().hex[:8]}"
        limit = f" LIMIT {rows}" if rows else ""
        self.execute(f"CREATE TABLE {name} AS SELECT * FROM {table} {where} ORDER BY 1{limit}")
        return name

    def close(self):
        self.connection.close()


@pytest.fixture
def warehouse(demo_warehouse):
    warehouse = Warehouse(demo_warehouse)
    yield warehouse
    warehouse.close()


@pytest.fixture
def connection_of(organization, e2e, sandbox):  # noqa: F811
    """The connections of the seeds, with credentials the sandbox accepts."""

    def make(type_id):
        if type_id == "snowflake":
            return Connection.objects.create(organization=organization, name="Snowflake Connection",
                                             type="snowflake", configuration=SNOWFLAKE,
                                             secrets={"password": "secret"})
        if type_id == "salesloft":
            return Connection.objects.create(organization=organization, name="My Salesloft Connection",
                                             type="salesloft", configuration={"auth_method": "api_key"},
                                             secrets={"api_key": "sandbox-api-key"})
        if type_id == "gong":
            return Connection.objects.create(organization=organization, name="My Gong Connection", type="gong",
                                             configuration={"auth_method": "token",
                                                            "access_key": "sandbox-access-key"},
                                             secrets={"access_secret": "sandbox-access-secret"})
        if type_id == "linkedinads":
            token = access_token(sandbox, "linkedin", ["r_ads", "rw_ads", "rw_dmp_segments"])
            return Connection.objects.create(organization=organization, name="LinkedIn Ads", type="linkedinads",
                                             configuration={},
                                             secrets={"oauth_access_token": token,
                                                      "oauth_refresh_token": "not-used",
                                                      "oauth_token_expiry": time.time() + 3600})
        raise ValueError(type_id)

    return make


@pytest.fixture
def model_of(organization):
    """model_of(snowflake, query, columns) -> a DataModel with those fields."""

    def make(connection, query, columns):
        model = DataModel.objects.create(organization=organization, connection=connection, name="Active Users",
                                         configuration={"query": query})
        for position, name in enumerate(columns):
            ModelField.objects.create(model=model, name=name, type="string", position=position)
        return model

    return make


class Api:
    """The public API, as a customer's script would drive it."""

    def __init__(self, client: Client):
        self.client = client

    def post(self, path, body=None):
        return self.client.post(path, json.dumps(body or {}), content_type="application/json")

    def create_sync(self, body) -> dict:
        response = self.post("/api/syncs", body)
        assert response.status_code == 200, response.content
        return response.json()["data"]

    def start(self, sync_id, **options) -> str:
        response = self.post(f"/api/syncs/{sync_id}/executions", options)
        assert response.status_code == 200, response.content
        return response.json()["data"]["id"]

    def execution(self, sync_id, execution_id) -> dict:
        return self.client.get(f"/api/syncs/{sync_id}/executions/{execution_id}").json()["data"]

    def wait(self, sync_id, execution_id, until=TERMINAL, timeout=90.0, worker=None) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            execution = self.execution(sync_id, execution_id)
            if execution["status"] in until:
                return execution
            time.sleep(0.2)
        log = worker.log()[-3000:] if worker else ""
        raise AssertionError(f"execution still {execution['status']} after {timeout}s: {execution}\n{log}")

    def run(self, sync_id, **options) -> dict:
        """Start a run through the API and wait for it to end."""
        return self.wait(sync_id, self.start(sync_id, **options))

    def record_errors(self, sync_id, execution_id) -> list[dict]:
        return self.client.get(f"/api/syncs/{sync_id}/executions/{execution_id}/record-errors").json()["data"]


@pytest.fixture
def public_api(api):
    return Api(api)


def requests_since_clear(inspector) -> dict:
    return httpx.get(f"{inspector.url}/_sandbox/requests", params={"log": 1}).json()


def clear_requests(inspector):
    httpx.delete(f"{inspector.url}/_sandbox/requests").raise_for_status()
