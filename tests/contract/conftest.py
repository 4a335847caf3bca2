"""The contract suite's fixtures: the sandbox, its inspection API, and stored connections
on it whose sessions come from provider_session, the path workers and web requests take."""

import pytest

from tests.sandbox.conftest import sandbox, sandbox_server  # noqa: F401  (fixtures)
from tests.writers.conftest import Inspector


@pytest.fixture
def inspector(sandbox):  # noqa: F811
    return Inspector(sandbox.url)


@pytest.fixture
def on_sandbox(settings, sandbox):  # noqa: F811
    settings.SANDBOX_URL = sandbox.url
    return sandbox


@pytest.fixture
def open_sessions():
    """Sessions a test opened, closed after it."""
    opened = []
    yield opened
    for session in opened:
        session.http.close()
