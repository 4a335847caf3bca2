"""An HTTP API header value stays secret end to end, against the live server and the worker.

A tenant makes an HTTP API connection through the API with a secret header, then a
sync from the demo warehouse to a receiver the test runs. The header reaches the
receiver with its real value on the health check and on every record. The value is
never in an API response (create, get, list, update, errors), a console page (the
connection, its edit form, the sync and run pages), the test process's log at DEBUG
or the worker's log, not even when the receiver quotes it back in its refusals.
"""

import logging

import httpx
import pytest
from django.conf import settings
from django.test import Client

from console.connections.models import Connection
from integrations.base import MASK
from tests.e2e.conftest import model_of  # noqa: F401  (fixture; the receiver comes from the suite's conftest)
from tests.security.conftest import run_sync

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SECRET = "hdr-1f3b9c-live-never-shown"
ROWS = 5


@pytest.fixture
def pages(live_server, org_admin):
    """The console in a browser signed in as the organization's admin (the same session cookie)."""
    signed_in = Client()
    signed_in.force_login(org_admin)
    cookie = signed_in.cookies[settings.SESSION_COOKIE_NAME].value
    with httpx.Client(base_url=live_server.url, cookies={settings.SESSION_COOKIE_NAME: cookie},
                      timeout=30.0) as client:
        yield client


def configuration(receiver, health="/health") -> dict:
    return {"url": f"{receiver.url}/hook", "healthcheck": f"{receiver.url}{health}",
            "headers": [{"name": "X-Api-Key", "value": SECRET}, {"name": "X-Source", "value": "console"}]}


def test_a_header_value_never_leaves_in_a_response_page_or_log(
        live, pages, e2e, e2e_worker, http_receiver, connection_of, model_of, warehouse, caplog):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    said = []

    # The connection: created (its health check sends the header), read, and saved back as shown.
    created = live.post("/api/connections", json={"name": "Receiver", "type": "httpapi",
                                                   "configuration": configuration(http_receiver)})
    assert created.status_code == 200, created.text
    connection_id = created.json()["data"]["id"]
    assert created.json()["data"]["status"] == "healthy", created.text
    shown = live.get(f"/api/connections/{connection_id}")
    assert shown.json()["data"]["configuration"]["headers"] == [{"name": "X-Api-Key", "value": MASK},
                                                                {"name": "X-Source", "value": MASK}]
    updated = live.put(f"/api/connections/{connection_id}",
                       json={"name": "Receiver", "configuration": shown.json()["data"]["configuration"]})
    assert updated.status_code == 200, updated.text
    said += [created, shown, updated, live.get("/api/connections")]
    assert Connection.objects.get(pk=connection_id).secrets["headers"][0] == {"name": "X-Api-Key", "value": SECRET}

    # Errors: a refused configuration, and a health check whose host quotes the key back.
    refused = live.post("/api/connections", json={"name": "Bad", "type": "httpapi", "configuration": {
        **configuration(http_receiver), "headers": [{"name": "X-Api-Key", "value": SECRET}, "not an object"]}})
    assert (refused.status_code, refused.json()["metadata"]["errors"]) == \
        (400, [{"field": "configuration.headers.1", "message": "must be an object"}])
    http_receiver.answer(401, body={"message": f"unknown key {SECRET}"}, path="/refuses")
    failed = live.post("/api/connections/test", json={"type": "httpapi", "connection_id": connection_id,
                                                      "configuration": {**shown.json()["data"]["configuration"],
                                                                        "healthcheck": f"{http_receiver.url}/refuses"}})
    assert (failed.status_code, failed.json()["key"]) == (400, "connection_test_failed"), failed.text
    said += [refused, failed]

    # A sync from the demo warehouse to the receiver, run by the worker: every record carries the key.
    logged_before = len(e2e_worker.log())
    table = warehouse.copy("users", ROWS)
    model = model_of(connection_of("snowflake"), f"SELECT email, first_name FROM {table}", ["email", "first_name"])
    body = {"name": "Rows to the receiver", "mode": "append", "schedule": {"frequency": "manual"},
            "target": {"connection_id": connection_id, "object": "endpoint"},
            "fields": [{"source": {"field": name, "model_id": str(model.pk)}, "target": name}
                       for name in ("email", "first_name")]}
    sync = live.post("/api/syncs", json=body)
    assert sync.status_code == 200, sync.text
    sync_id = sync.json()["data"]["id"]
    completed = run_sync(live, sync_id)
    assert (completed["status"], completed["counts"]["error"]) == ("completed", 0), completed
    hooks = [r for r in http_receiver.requests if r.path == "/hook"]
    assert len(hooks) == ROWS and {r.headers["x-api-key"] for r in hooks} == {SECRET}
    assert {r.headers["x-source"] for r in hooks} == {"console"}

    # A second sync's records are refused by the receiver, quoting the key: its record errors do not.
    http_receiver.answer(401, body={"message": f"unknown key {SECRET}"})
    refused_sync = live.post("/api/syncs", json={**body, "name": "Refused rows"})
    assert refused_sync.status_code == 200, refused_sync.text
    sync_id = refused_sync.json()["data"]["id"]
    failing = run_sync(live, sync_id)
    assert failing["counts"]["error"] == ROWS, failing["counts"]
    hooks = [r for r in http_receiver.requests if r.path == "/hook"]
    assert len(hooks) == 2 * ROWS and {r.headers["x-api-key"] for r in hooks} == {SECRET}
    execution = f"/api/syncs/{sync_id}/executions/{failing['id']}"
    errors = live.get(f"{execution}/record-errors")
    assert [e["message"] for e in errors.json()["data"]] == ["HTTP 401 Unauthorized"] * ROWS
    said += [sync, refused_sync, errors, live.get(f"/api/syncs/{sync_id}"), live.get(f"{execution}/consolelog"),
             live.get(f"/api/syncs/{sync_id}/executions")]

    # The console's pages of the connection, the sync and its runs.
    for path in (f"/connections/{connection_id}", f"/connections/{connection_id}/edit", "/connections",
                 f"/syncs/{sync_id}", "/syncs", f"/syncs/{sync_id}/runs", f"/syncs/{sync_id}/runs/{failing['id']}",
                 f"/syncs/{sync_id}/runs/{failing['id']}/errors"):
        page = pages.get(path)
        assert page.status_code == 200, (path, page.status_code)
        said.append(page)
    edit = pages.get(f"/connections/{connection_id}/edit").text
    assert f"X-Api-Key: {MASK}" in edit

    for response in said:
        assert SECRET not in response.text, f"{response.request.method} {response.request.url.path} shows the key"
    assert caplog.records, "nothing was logged: the log check would prove nothing"
    assert SECRET not in caplog.text
    worker_log = e2e_worker.log()[logged_before:]
    assert worker_log.count("] received") >= 2, "the worker logged no run: the check would prove nothing"
    assert SECRET not in worker_log
