"""Probe slots: a check over PROBE_CONCURRENCY is refused at once and changes nothing."""

import json

import pytest

from console.connections import probes
from console.connections import services as connection_services
from console.connections.models import Connection, ConnectionStatus
from tests.conftest import free_port

CLOSED_PORT = free_port()  # nothing listens there: a check is refused at once
POSTGRES = {"type": "postgresql", "configuration": {"hostname": "127.0.0.1", "port": CLOSED_PORT, "database": "d",
                                                    "username": "u"}}


@pytest.fixture(autouse=True)
def closed_port_allowed(settings):
    settings.EGRESS_ALLOW = [*settings.EGRESS_ALLOW, f"127.0.0.1:{CLOSED_PORT}"]


@pytest.fixture
def all_slots_taken(settings):
    """The only probe slot of this process is held for the test."""
    settings.PROBE_CONCURRENCY = 1
    settings.PROBE_TIMEOUT_SECONDS = 7
    with probes.slot():
        yield


def post(api, path, body, **headers):
    return api.post(path, json.dumps(body), content_type="application/json", **headers)


def test_a_test_over_the_cap_is_a_429_with_retry_after(api, all_slots_taken):
    response = post(api, "/api/connections/test", POSTGRES)
    assert response.status_code == 429
    assert response["Retry-After"] == "7"
    assert response.json() == {"status": 429, "key": "too_many_connection_checks", "metadata": {},
                               "message": "1 connection checks are already running; try again in 7 seconds."}


def test_a_validated_create_over_the_cap_saves_nothing(api, all_slots_taken):
    response = post(api, "/api/connections", {"name": "Warehouse", **POSTGRES})
    assert response.status_code == 429
    assert not Connection.objects.exists()
    unchecked = post(api, "/api/connections", {"name": "Warehouse", "validate": False, **POSTGRES})
    assert unchecked.status_code == 200  # nothing to probe: no slot needed


def test_a_refused_request_may_be_sent_again_with_the_same_idempotency_key(api, settings):
    settings.PROBE_CONCURRENCY = 1
    body = {"name": "Warehouse", "validate": False, **POSTGRES}
    with probes.slot():
        refused = post(api, "/api/connections", {**body, "validate": True}, HTTP_IDEMPOTENCY_KEY="key-0001")
    assert refused.status_code == 429
    again = post(api, "/api/connections", {**body, "validate": True}, HTTP_IDEMPOTENCY_KEY="key-0001")
    assert again.status_code == 200 and "Idempotent-Replayed" not in again
    assert Connection.objects.get().status == ConnectionStatus.UNHEALTHY  # checked this time (refused)


def test_the_console_says_why_a_check_is_refused(console, organization, all_slots_taken):
    connection = Connection.objects.create(organization=organization, name="Warehouse", type="postgresql",
                                           configuration=POSTGRES["configuration"])
    partial = console.post(f"/connections/{connection.pk}/test", HTTP_HX_REQUEST="true")
    assert partial.status_code == 429 and partial["Retry-After"] == "7"
    assert partial.content.decode() == "1 connection checks are already running; try again in 7 seconds."
    page = console.post(f"/connections/{connection.pk}/test")
    assert page.status_code == 429
    assert b"1 connection checks are already running" in page.content
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.HEALTHY and connection.checked_at is None


def test_a_token_renewal_in_a_check_ends_by_the_probe_deadline(organization, settings):
    """A token endpoint that never answers: the check ends at PROBE_TIMEOUT_SECONDS, unhealthy, saying why."""
    import socket
    import time

    silent = socket.create_server(("127.0.0.1", 0))  # connections complete in the backlog; none is answered
    place = f"127.0.0.1:{silent.getsockname()[1]}"
    settings.SANDBOX_URL = f"http://{place}"
    settings.EGRESS_ALLOW = [*settings.EGRESS_ALLOW, place]
    settings.PROBE_TIMEOUT_SECONDS = 2
    connection = Connection.objects.create(
        organization=organization, name="Salesloft", type="salesloft", configuration={"auth_method": "oauth"},
        secrets={"oauth_access_token": "stale", "oauth_refresh_token": "r", "oauth_token_expiry": time.time() - 1})
    started = time.monotonic()
    try:
        checked = connection_services.check_connection(connection)
    finally:
        silent.close()
    assert time.monotonic() - started < 4  # the probe's bound, not the token endpoint's 20 s timeout
    assert checked.status == ConnectionStatus.UNHEALTHY
    assert checked.status_message.startswith("Could not reach Salesloft's token endpoint")
