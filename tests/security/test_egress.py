"""Tenant-set addresses the console must not reach, tried against the live server and the worker.

Every target is refused before a connection is made: the `trap` port (loopback, named by
no allow-list) counts connections and sees none. The web process (pytest-django's live
server) and the e2e worker allow exactly the sandbox, the demo warehouse and the
`http_receiver`; the console itself, Redis and every other loopback port stay refused.
Off-machine addresses are only ever refused up front (the suite's guard would stop a connect).
"""

import time
from urllib.parse import urlsplit

import pytest

from console.connections.models import Connection
from integrations import egress
from tests.e2e.conftest import model_of  # noqa: F401  (fixture)
from tests.security.conftest import run_sync

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

LOOPBACK = "a loopback address; this console does not connect to loopback addresses (EGRESS_ALLOW widens this)"


def refused_urls(trap, live_server, redis_url) -> list[tuple[str, str]]:
    """(url, what the refusal says) for each target the tenant may not point the console at."""
    redis, console = urlsplit(redis_url).port, urlsplit(live_server.url).port
    return [
        (f"http://127.0.0.1:{trap.port}/", f"127.0.0.1 is {LOOPBACK}"),
        (f"http://2130706433:{trap.port}/", f"2130706433 resolves to 127.0.0.1, {LOOPBACK}"),
        (f"http://0x7f000001:{trap.port}/", f"0x7f000001 resolves to 127.0.0.1, {LOOPBACK}"),
        (f"http://127.1:{trap.port}/", f"127.1 resolves to 127.0.0.1, {LOOPBACK}"),
        (f"http://[::ffff:127.0.0.1]:{trap.port}/", f"::ffff:127.0.0.1 resolves to 127.0.0.1, {LOOPBACK}"),
        (f"http://[::1]:{trap.port}/", f"::1 is {LOOPBACK}"),
        (f"http://localhost:{trap.port}/", f"localhost resolves to 127.0.0.1, {LOOPBACK}"),
        (f"http://0.0.0.0:{trap.port}/", "0.0.0.0 is the unspecified address"),
        (f"http://127.0.0.1:{redis}/", f"127.0.0.1 is {LOOPBACK}"),  # the console's Redis
        (f"http://127.0.0.1:{console}/api/me", f"127.0.0.1 is {LOOPBACK}"),  # the console itself
        (f"{live_server.url}/api/me", f"localhost resolves to 127.0.0.1, {LOOPBACK}"),
        ("http://169.254.169.254/latest/meta-data/iam/security-credentials/", "169.254.169.254 is a link-local address"),
        ("http://10.0.0.5:8080/", "10.0.0.5 is a private address"),
        ("https://192.168.1.20/", "192.168.1.20 is a private address"),
        ("http://[fd00::1]/", "fd00::1 is a private address"),
        ("file:///etc/passwd", "file: is not allowed; this console connects only over http and https"),
        (f"gopher://127.0.0.1:{redis}/_FLUSHALL", "gopher: is not allowed"),
    ]


def field_errors(response) -> list[tuple[str, str]]:
    return [(e["field"], e["message"]) for e in response.json()["metadata"]["errors"]]


def test_the_web_process_refuses_each_address_before_connecting(live, live_server, redis_url, trap, http_receiver):
    for url, says in refused_urls(trap, live_server, redis_url):
        created = live.post("/api/connections", json={"name": "Target", "type": "httpapi",
                                                      "configuration": {"url": url}})
        assert created.status_code == 400, (url, created.text)
        [(field, message)] = field_errors(created)
        assert field == "configuration.url" and message.startswith(says), (url, message)

        tested = live.post("/api/connections/test", json={"type": "httpapi", "configuration": {
            "url": f"{http_receiver.url}/hook", "healthcheck": url}})
        assert tested.status_code == 400, (url, tested.text)
        [(field, message)] = field_errors(tested)
        assert field == "configuration.healthcheck" and message.startswith(says), (url, message)

        hook = live.post("/api/webhooks", json={"endpoint": url, "secret": "signing-secret"})
        assert hook.status_code == 400, (url, hook.text)
        assert field_errors(hook) == [("endpoint", field_errors(tested)[0][1])]
    assert not Connection.objects.exists() and live.get("/api/webhooks").json()["data"] == []
    assert trap.connections == 0 and http_receiver.requests == []


def test_warehouse_hosts_are_refused_before_connecting(live, live_server, redis_url, trap):
    redis, console = urlsplit(redis_url).port, urlsplit(live_server.url).port
    hosts = [("127.0.0.1", trap.port), ("2130706433", trap.port), ("localhost", trap.port), ("::1", trap.port),
             ("127.0.0.1", redis), ("127.0.0.1", console), ("169.254.169.254", 5432), ("10.1.2.3", 5432)]
    for type_id in ("postgresql", "mysql"):
        for host, port in hosts:
            configuration = {"hostname": host, "port": port, "database": "d", "username": "u", "password": "p"}
            for path in ("/api/connections", "/api/connections/test"):
                response = live.post(path, json={"name": "Warehouse", "type": type_id,
                                                 "configuration": configuration})
                assert response.status_code == 400, (type_id, host, port, response.text)
                [(field, message)] = field_errors(response)
                assert field == "configuration.hostname" and "this console does not connect to" in message
    assert not Connection.objects.exists()
    assert trap.connections == 0


def test_an_allowed_url_that_redirects_to_loopback_is_refused(live, trap, http_receiver):
    http_receiver.answer(302, headers={"Location": f"http://127.0.0.1:{trap.port}/"}, path="/moved")
    tested = live.post("/api/connections/test", json={"type": "httpapi", "configuration": {
        "url": f"{http_receiver.url}/hook", "healthcheck": f"{http_receiver.url}/moved"}})
    assert (tested.status_code, tested.json()["key"]) == (400, "connection_test_failed"), tested.text
    assert tested.json()["message"] == f"127.0.0.1 is {LOOPBACK}"
    assert [(r.method, r.path) for r in http_receiver.requests] == [("GET", "/moved")]
    assert trap.connections == 0


def test_a_name_that_resolves_to_loopback_passes_the_form_and_is_refused_when_connecting(
        live, trap, http_receiver, monkeypatch):
    real = egress.system_resolver
    monkeypatch.setattr(egress, "system_resolver",  # a tenant's DNS name that answers 127.0.0.1
                        lambda host, port: ["127.0.0.1"] if host.endswith(".tenant.test") else real(host, port))
    tested = live.post("/api/connections/test", json={"type": "httpapi", "configuration": {
        "url": f"{http_receiver.url}/hook", "healthcheck": f"http://health.tenant.test:{trap.port}/"}})
    assert (tested.status_code, tested.json()["key"]) == (400, "connection_test_failed"), tested.text
    assert tested.json()["message"] == f"health.tenant.test resolves to 127.0.0.1, {LOOPBACK}"
    warehouse = live.post("/api/connections/test", json={"type": "postgresql", "configuration": {
        "hostname": "db.tenant.test", "port": trap.port, "database": "d", "username": "u", "password": "p"}})
    assert (warehouse.status_code, warehouse.json()["key"]) == (400, "connection_test_failed"), warehouse.text
    assert warehouse.json()["message"] == f"db.tenant.test resolves to 127.0.0.1, {LOOPBACK}"
    assert trap.connections == 0


def test_the_worker_refuses_a_stored_target_before_connecting(
        live, live_server, redis_url, trap, e2e, e2e_worker, http_receiver, organization, connection_of,
        model_of):  # noqa: F811
    """The HTTP API target is stored as an older console (or a direct database write) might
    have left it: pointing at a refused address. The run fails with the rule; nothing is sent."""
    redis, console = urlsplit(redis_url).port, urlsplit(live_server.url).port
    target = Connection.objects.create(organization=organization, name="Stored target", type="httpapi",
                                       configuration={"url": f"{http_receiver.url}/hook", "method": "POST"})
    model = model_of(connection_of("snowflake"), "SELECT email FROM users ORDER BY email LIMIT 3", ["email"])

    def new_sync() -> str:  # a sync of its own each time: no state, so every row is sent
        sync = live.post("/api/syncs", json={
            "name": f"Rows to a stored target {time.monotonic()}", "mode": "append",
            "schedule": {"frequency": "manual"}, "target": {"connection_id": str(target.pk), "object": "endpoint"},
            "fields": [{"source": {"field": "email", "model_id": str(model.pk)}, "target": "email"}]})
        assert sync.status_code == 200, sync.text
        return sync.json()["data"]["id"]

    allowed = run_sync(live, new_sync())  # an allowed endpoint is reached: the refusals below are the policy's
    assert (allowed["status"], allowed["counts"]["error"]) == ("completed", 0), allowed
    assert [r.path for r in http_receiver.requests] == ["/hook"] * 3

    for url, says in [(f"http://127.0.0.1:{trap.port}/hook", f"127.0.0.1 is {LOOPBACK}"),
                      (f"http://2130706433:{trap.port}/hook", f"2130706433 resolves to 127.0.0.1, {LOOPBACK}"),
                      (f"http://localhost:{trap.port}/hook", f"localhost resolves to 127.0.0.1, {LOOPBACK}"),
                      (f"http://[::ffff:127.0.0.1]:{trap.port}/hook",
                       f"::ffff:127.0.0.1 resolves to 127.0.0.1, {LOOPBACK}"),
                      (f"http://127.0.0.1:{redis}/", f"127.0.0.1 is {LOOPBACK}"),
                      (f"http://127.0.0.1:{console}/api/me", f"127.0.0.1 is {LOOPBACK}")]:
        Connection.objects.filter(pk=target.pk).update(configuration={"url": url, "method": "POST"})
        failed = run_sync(live, new_sync())
        assert (failed["status"], failed["errors"]) == ("failed", [says]), (url, failed)
    assert trap.connections == 0
    assert len(http_receiver.requests) == 3
