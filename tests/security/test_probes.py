"""Hosts that never answer cannot hold the console.

The console is served as `make run` serves it (waitress with WEB_THREADS threads, in a
process of its own on the test database). Eight connection checks go at once to hosts
on loopback that never answer: one accepts and stays silent, one never accepts (its
backlog is full, so the handshake never completes). Meanwhile the console's pages
answer within a second, a ninth check is refused at once (429 with Retry-After), and
each of the eight ends with a timeout error that names its host.
"""

import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import free_port

PROBE_SECONDS = 3  # PROBE_TIMEOUT_SECONDS of the served console
TIMED_OUT = re.compile(r"no answer (from \S+ )?within \d+ s", re.IGNORECASE)

pytestmark = pytest.mark.django_db(transaction=True)


class HangingHost:
    """A TCP port on loopback that never answers: `accepts` takes connections and stays
    silent; otherwise the backlog is kept full, so connecting never completes."""

    def __init__(self, accepts: bool):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.held = []
        if accepts:
            self.server.listen(64)
            threading.Thread(target=self.take, daemon=True).start()
        else:
            self.server.listen(0)
            for _ in range(2):  # fill the accept queue; later handshakes get no answer
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", self.port))
                self.held.append(filler)

    def take(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.held.append(conn)

    @property
    def place(self) -> str:
        return f"127.0.0.1:{self.port}"

    def close(self):
        self.server.close()
        for sock in self.held:
            sock.close()


class ClosedHost:
    """A port on loopback where nothing listens: connecting is refused at once."""

    def __init__(self):
        self.port = free_port()
        self.place = f"127.0.0.1:{self.port}"


@pytest.fixture
def hosts():
    silent, unaccepting = HangingHost(accepts=True), HangingHost(accepts=False)
    yield silent, unaccepting, ClosedHost()
    silent.close()
    unaccepting.close()


@pytest.fixture
def console_url(hosts, serve_console):
    """The console as `make run` serves it, allowed to reach the test's hosts; Snowflake's endpoint hangs."""
    silent, unaccepting, closed = hosts
    return serve_console(PROBE_TIMEOUT_SECONDS=str(PROBE_SECONDS),
                         EGRESS_ALLOW=f"{silent.place},{unaccepting.place},{closed.place}",
                         SNOWFLAKE_ENDPOINT=f"http://{silent.place}")


def warehouse(type_id: str, host: HangingHost) -> dict:
    return {"type": type_id, "configuration": {"hostname": "127.0.0.1", "port": host.port, "database": "d",
                                               "username": "u", "password": "not-a-secret-that-matters"}}


def http_api(host: HangingHost) -> dict:
    return {"type": "httpapi", "configuration": {"url": f"http://{host.place}/hook",
                                                 "healthcheck": f"http://{host.place}/health"}}


SNOWFLAKE = {"type": "snowflake", "configuration": {"account": "xy12345", "username": "u", "dbname": "d",
                                                    "password": "p4ssword"}}


def eight_probes(silent: HangingHost, unaccepting: HangingHost) -> list[tuple[str, dict, HangingHost]]:
    """(path, body, the host it hangs on): tests of a configuration, and connections created with
    validation, of each type that connects out."""
    def created(body):
        return {"name": f"Hangs {body['type']}", "validate": True, **body}

    return [
        ("/api/connections/test", warehouse("postgresql", silent), silent),
        ("/api/connections", created(warehouse("postgresql", unaccepting)), unaccepting),
        ("/api/connections/test", warehouse("mysql", silent), silent),
        ("/api/connections/test", warehouse("mysql", unaccepting), unaccepting),
        ("/api/connections/test", http_api(silent), silent),
        ("/api/connections", created(http_api(unaccepting)), unaccepting),
        ("/api/connections/test", SNOWFLAKE, silent),
        ("/api/connections", created(SNOWFLAKE), silent),
    ]


def outcome(response: httpx.Response) -> tuple[int, str]:
    """(status, message): a failed test's message, or a created connection's status error."""
    body = response.json()
    if response.status_code == 200:
        return 200, f"{body['data']['status']}: {body['data']['status_error']}"
    return response.status_code, body["message"]


def warm_up(client: httpx.Client, closed: ClosedHost):
    """One failed check of each type first, so that the drivers are imported (the Snowflake
    connector takes seconds of CPU to load) before anything is timed."""
    for body in (warehouse("postgresql", closed), warehouse("mysql", closed), http_api(closed), SNOWFLAKE):
        assert client.post("/api/connections/test", json=body).status_code == 400
    with httpx.Client(base_url=client.base_url, headers=client.headers, timeout=client.timeout) as other:
        assert other.get("/signin").status_code == 200


def test_eight_hanging_probes_leave_the_console_answering(console_url, hosts, api_key):
    silent, unaccepting, closed = hosts
    auth = {"Authorization": f"Bearer {api_key}"}
    probes = eight_probes(silent, unaccepting)
    with httpx.Client(base_url=console_url, headers=auth, timeout=PROBE_SECONDS + 10) as slow, \
            httpx.Client(base_url=console_url, headers=auth, timeout=1.0) as quick, \
            ThreadPoolExecutor(len(probes)) as pool:
        warm_up(slow, closed)

        def run(path, body):
            started = time.monotonic()
            response = slow.post(path, json=body)
            return response, time.monotonic() - started

        running = [pool.submit(run, path, body) for path, body, _ in probes]
        time.sleep(1.0)  # the eight are in flight: they hang for PROBE_SECONDS
        ninth = quick.post("/api/connections/test", json=warehouse("postgresql", silent))
        for _ in range(3):
            for path in ("/signin", "/api/connections"):
                started = time.monotonic()
                response = quick.get(path)  # a second at most (the client's timeout)
                assert response.status_code == 200, (path, response.text[:300])
                assert time.monotonic() - started < 1.0
        finished = [future.result() for future in running]

    assert ninth.status_code == 429, ninth.text
    assert int(ninth.headers["Retry-After"]) >= 1
    assert ninth.json()["message"] == f"8 connection checks are already running; try again in {PROBE_SECONDS} seconds."
    for (path, body, host), (response, seconds) in zip(probes, finished):
        status, message = outcome(response)
        expected = 200 if path == "/api/connections" else 400
        assert status == expected, (body["type"], response.text)
        assert TIMED_OUT.search(message), (body["type"], message)
        assert host.place in message, (body["type"], message)
        assert seconds < PROBE_SECONDS + 3, (body["type"], seconds)  # the probe's own bound held
        if status == 200:
            assert message.startswith("unhealthy: ")
