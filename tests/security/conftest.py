"""The security suite: attacks tried against a live server (pytest-django's
live_server), a real Celery worker on the e2e queue and the sandbox.

`live` is an httpx client for the API of the live server, signed with an admin
key of the `organization` fixture; `live.url` is the server's base URL.
"""

import httpx
import pytest

from tests.e2e.conftest import (  # noqa: F401  (fixtures)
    connection_of,
    demo_warehouse,
    e2e,
    e2e_worker,
    warehouse,
    worker_env,
)
from tests.sandbox.conftest import sandbox, sandbox_server  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.worker]


@pytest.fixture
def live(live_server, api_key):
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {api_key}"},
                      timeout=30.0) as client:
        client.url = live_server.url
        yield client
