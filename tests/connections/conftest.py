import importlib
import logging
import threading
import time

import pytest
import uvicorn

from integrations.demo.warehouse import free_port
from tests.conftest import allow_egress
from tests.sandbox.conftest import sandbox, sandbox_server  # noqa: F401  (fixtures)


@pytest.fixture(scope="session")
def fakesnow_endpoint():
    """A Snowflake-protocol server on loopback (any account and credentials work)."""
    # fakesnow.server() is shadowed by its own submodule once that is imported, so serve the app directly
    logging.getLogger("uvicorn").setLevel(logging.WARNING)
    app = importlib.import_module("fakesnow.server").app
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="fakesnow", daemon=True)
    thread.start()
    while thread.is_alive() and not server.started:
        time.sleep(0.05)
    assert server.started, "fakesnow did not start"
    endpoint = f"http://127.0.0.1:{port}"
    allow_egress(endpoint)
    yield endpoint
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def warehouse(settings, fakesnow_endpoint):
    settings.SNOWFLAKE_ENDPOINT = fakesnow_endpoint
    return fakesnow_endpoint


@pytest.fixture
def on_sandbox(settings, sandbox):  # noqa: F811
    """Providers' URLs point at the sandbox, as in the demo."""
    settings.SANDBOX_URL = sandbox.url
    return sandbox
