"""Writers against the sandbox over HTTP; the inspection API (/_sandbox/...) seeds and checks."""

import httpx
import pytest

from integrations.base import OutgoingRecord, WriteSpec
from integrations.writers import make_writer
from tests.sandbox.conftest import sandbox, sandbox_server  # noqa: F401  (fixtures)
from tests.targets.conftest import session_for  # noqa: F401


class Inspector:
    """GET/POST /_sandbox/state/<provider>/<collection>."""

    def __init__(self, url):
        self.url = url

    def docs(self, provider, collection) -> list[dict]:
        response = httpx.get(f"{self.url}/_sandbox/state/{provider}/{collection}")
        response.raise_for_status()
        return response.json()["data"]

    def seed(self, provider, collection, docs) -> list[dict]:
        response = httpx.post(f"{self.url}/_sandbox/state/{provider}/{collection}", json={"data": docs})
        response.raise_for_status()
        return response.json()["data"]

    def settings(self, **changes):
        httpx.put(f"{self.url}/_sandbox/settings", json=changes).raise_for_status()

    def faults(self, **changes):
        httpx.put(f"{self.url}/_sandbox/faults", json=changes).raise_for_status()

    def requests(self) -> dict:
        return httpx.get(f"{self.url}/_sandbox/requests").json()


@pytest.fixture
def inspector(sandbox):  # noqa: F811
    return Inspector(sandbox.url)


@pytest.fixture
def writer_for(session_for):  # noqa: F811
    """writer_for("salesloft", object_id, mode, identity_field, create=None) -> a Writer on the sandbox."""

    def make(type_id, object_id, mode="updateOrCreate", identity_field=None, create=None, configuration=None):
        spec = WriteSpec(object_id=object_id, mode=mode, identity_field=identity_field,
                         configuration=configuration or {}, create=create)
        return make_writer(type_id, session_for(type_id), spec)

    return make


def record(identity, **fields) -> OutgoingRecord:
    return OutgoingRecord(identity=identity, fields=fields)
