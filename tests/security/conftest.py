"""The security suite: attacks tried against a live server (pytest-django's
live_server), a real Celery worker on the e2e queue and the sandbox.

`live` is an httpx client for the API of the live server, signed with an admin
key of the `organization` fixture; `live.url` is the server's base URL.
`serve_console(**environment)` serves the console as `make run` does instead.
"""

import ipaddress
import os
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

from tests.e2e.conftest import (  # noqa: F401  (fixtures)
    connection_of,
    demo_warehouse,
    e2e,
    e2e_worker,
    http_receiver,
    http_receiver_server,
    warehouse,
    worker_env,
)
from console.system.management.commands.rundemo import web_command
from tests.conftest import ROOT, database_url_for_tests, free_port, wait_for_port
from tests.sandbox.conftest import sandbox, sandbox_server  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.worker]


class NonLoopbackConnect(AssertionError):
    """A test of the security suite tried to open a connection off this machine."""


def loopback(address) -> bool:
    if not isinstance(address, tuple):
        return True  # a Unix socket path
    host = str(address[0]).split("%")[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: resolving it could already leave the machine


@pytest.fixture(autouse=True)
def only_loopback(monkeypatch):
    """Any socket connect of the test process to an address off loopback fails the test, unsent."""
    tried = []

    def guarded(original):
        def connect(self_or_address, *args, **kwargs):
            address = args[0] if isinstance(self_or_address, socket.socket) else self_or_address
            if not loopback(address):
                tried.append(address)
                raise NonLoopbackConnect(f"the test tried to connect to {address!r}")
            return original(self_or_address, *args, **kwargs)

        return connect

    monkeypatch.setattr(socket.socket, "connect", guarded(socket.socket.connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guarded(socket.socket.connect_ex))
    monkeypatch.setattr(socket, "create_connection", guarded(socket.create_connection))
    yield tried
    assert not tried, f"connections off loopback were attempted: {tried}"


class Trap:
    """A loopback port that no allow-list names, listening on 127.0.0.1 and ::1 (where it can):
    it counts every connection made to it, so a refusal can be shown to come before any."""

    def __init__(self):
        self.connections = 0
        self.sockets = [socket.create_server(("127.0.0.1", 0))]
        self.port = self.sockets[0].getsockname()[1]
        try:
            self.sockets.append(socket.create_server(("::1", self.port), family=socket.AF_INET6))
        except OSError:
            pass  # no IPv6 loopback here
        for sock in self.sockets:
            threading.Thread(target=self.count, args=(sock,), daemon=True).start()

    def count(self, sock):
        while True:
            try:
                accepted, _ = sock.accept()
            except OSError:
                return  # closed
            self.connections += 1
            accepted.close()

    def close(self):
        for sock in self.sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
            except OSError:
                pass
            sock.close()


@pytest.fixture
def trap():
    trap = Trap()
    yield trap
    trap.close()


def run_sync(live, sync_id, timeout: float = 90, syncs: str = "/api/syncs") -> dict:
    """Start a run of the sync through the live API and wait for it to end; the execution.
    syncs="/api/bulk/syncs" runs a bulk sync."""
    started = live.post(f"{syncs}/{sync_id}/executions", json={})
    assert started.status_code == 200, started.text
    execution_id = started.json()["data"]["id"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        execution = live.get(f"{syncs}/{sync_id}/executions/{execution_id}").json()["data"]
        if execution["status"] in ("completed", "failed", "canceled", "interrupted"):
            return execution
        time.sleep(0.2)
    raise AssertionError(f"the run did not end: {execution}")


@pytest.fixture
def live(live_server, api_key):
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {api_key}"},
                      timeout=30.0) as client:
        client.url = live_server.url
        yield client


@pytest.fixture
def serve_console(redis_url, tmp_path):
    """serve_console(**environment) -> the base URL of the console served by waitress with
    WEB_THREADS threads, as `make run` starts it, in a process of its own on the test database
    (a test that uses it commits its data: django_db(transaction=True))."""
    processes = []

    def start(**environment):
        port = free_port()
        env = dict(os.environ, DATABASE_URL=database_url_for_tests(), REDIS_URL=redis_url, **environment)
        with open(tmp_path / f"web-{port}.log", "wb") as log:
            processes.append(subprocess.Popen(web_command(sys.executable, port), cwd=ROOT, env=env, stdout=log,
                                              stderr=subprocess.STDOUT))
        wait_for_port(port)
        return f"http://127.0.0.1:{port}"

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=15)
