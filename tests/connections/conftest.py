import logging

import fakesnow
import pytest

from tests.sandbox.conftest import sandbox, sandbox_server  # noqa: F401  (fixtures)


@pytest.fixture(scope="session")
def fakesnow_endpoint():
    """A Snowflake-protocol server on loopback (any account and credentials work)."""
    logging.getLogger("uvicorn").setLevel(logging.WARNING)
    with fakesnow.server() as params:
        yield f"http://127.0.0.1:{params['port']}"


@pytest.fixture
def warehouse(settings, fakesnow_endpoint):
    settings.SNOWFLAKE_ENDPOINT = fakesnow_endpoint
    return fakesnow_endpoint


@pytest.fixture
def on_sandbox(settings, sandbox):  # noqa: F811
    """Providers' URLs point at the sandbox, as in the demo."""
    settings.SANDBOX_URL = sandbox.url
    return sandbox
