"""Sandbox fixtures: one server per test session, state reset before each test.

    def test_something(sandbox):
        httpx.get(f"{sandbox.url}/salesloft/v2/me", headers=...)

`sandbox.state` is the server's store and `sandbox.app` its application
(e.g. `sandbox.app.update_settings({"token_lifetime": 1})`); both are reset
before every test, settings included.
"""

import pytest

from integrations.sandbox import SandboxServer
from tests.conftest import allow_egress


@pytest.fixture(scope="session")
def sandbox_server():
    server = SandboxServer(port=0).start()
    allow_egress(server.url)
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server):
    sandbox_server.reset()
    yield sandbox_server
