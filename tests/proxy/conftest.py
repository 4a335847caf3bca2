import pytest

from tests.sandbox.conftest import sandbox, sandbox_server  # noqa: F401  (fixtures)
from tests.sandbox.connections import sandbox_connection
from tests.writers.conftest import Inspector


@pytest.fixture
def salesloft(organization, sandbox, settings):  # noqa: F811
    """A Salesloft connection on the sandbox, with the sandbox's API key."""
    settings.SANDBOX_URL = sandbox.url
    return sandbox_connection(organization, "salesloft", sandbox=sandbox)


@pytest.fixture
def inspector(sandbox):  # noqa: F811
    return Inspector(sandbox.url)
