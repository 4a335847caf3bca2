"""Sandbox fixtures: one server per test session, state reset before each test.

    def test_something(sandbox):
        httpx.get(f"{sandbox.url}/salesloft/v2/me", headers=...)

`sandbox.state` is the server's store and `sandbox.app` its application
(e.g. `sandbox.app.update_settings({"token_lifetime": 1})`); both are reset
before every test, settings included.
"""

from contextlib import contextmanager

import pytest

from integrations.sandbox import SandboxServer
from tests.conftest import allow_egress
from tests.shared import shared


@contextmanager
def started_sandbox():
    server = SandboxServer(port=0).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sandbox_server():
    with shared("sandbox", started_sandbox) as server:  # one for every conftest that imports this
        allow_egress(server.url)
        yield server


@pytest.fixture
def sandbox(sandbox_server):
    sandbox_server.reset()
    yield sandbox_server
