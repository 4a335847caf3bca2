"""Seed 004's manual HTTP destination, through the live API, a worker and a receiver the test runs.

The connection carries the URL, the method, secret headers and a bearer token; each sync
may set its own request options in `target.configuration` (method, URL with {field}
placeholders, excluded attributes, batching and the batch body). A dry run shows the
requests the model's first rows would produce, headers masked; a test send delivers one.
"""

import json

import pytest

from console.connections.models import Connection
from integrations.base import MASK
from tests.e2e.conftest import model_of  # noqa: F401  (fixture)
from tests.security.conftest import run_sync

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SECRET = "hdr-7c2e41-never-shown"
TOKEN = "tok-5d90ab-never-shown"


def connection(live, receiver, **options) -> str:
    created = live.post("/api/connections", json={"name": "Receiver", "type": "httpapi", "configuration": {
        "url": f"{receiver.url}/items", "auth_method": "bearer", "token": TOKEN,
        "headers": [{"name": "X-Api-Key", "value": SECRET}, {"name": "X-Source", "value": "console"}],
        **options}})
    assert created.status_code == 200, created.text
    return created.json()["data"]["id"]


@pytest.fixture
def users(warehouse, connection_of, model_of):  # noqa: F811
    """users(n) -> a model of n demo users: id, email, plan (its table's ids as model.ids)."""

    def make(rows):
        table = warehouse.copy("users", rows)
        model = model_of(connection_of("snowflake"), f"SELECT id, email, plan FROM {table} ORDER BY id",
                         ["id", "email", "plan"])
        model.ids = [row[0] for row in warehouse.execute(f"SELECT id FROM {table}")]
        return model

    return make


def sync(live, connection_id, model, mode="append", **configuration) -> dict:
    body = {"name": f"Users to the receiver {json.dumps(configuration)}", "mode": mode,
            "schedule": {"frequency": "manual"},
            "target": {"connection_id": connection_id, "object": "endpoint", "configuration": configuration},
            "fields": [{"source": {"field": name, "model_id": str(model.pk)}, "target": name}
                       for name in ("id", "email", "plan")]}
    if mode != "append":
        body["identity"] = {"source": {"field": "id", "model_id": str(model.pk)}, "target": "id",
                            "function": "Equality"}
    return live.post("/api/syncs", json=body)


def created(response) -> str:
    assert response.status_code == 200, response.text
    return response.json()["data"]["id"]


def errors(response) -> list[tuple[str, str]]:
    return [(e["field"], e["message"]) for e in response.json()["metadata"]["errors"]]


@pytest.mark.parametrize("batch_format, records_of, content_type", [
    ("json_array", json.loads, "application/json"),
    ("json_object", lambda body: json.loads(body)["records"], "application/json"),
    ("ndjson", lambda body: [json.loads(line) for line in body.decode().splitlines()], "application/x-ndjson"),
])
def test_batches_of_n_records_arrive_in_each_body_shape_without_the_excluded_attributes(
        live, e2e, e2e_worker, http_receiver, users, batch_format, records_of, content_type):
    model = users(5)
    sync_id = created(sync(live, connection(live, http_receiver), model, batch=True, batch_size=2,
                           batch_format=batch_format, batch_key="records", exclude_attributes=["plan"]))
    run = run_sync(live, sync_id)
    assert (run["status"], run["counts"]["error"]) == ("completed", 0), run

    seen = http_receiver.requests
    assert [(r.method, r.path, r.headers["content-type"]) for r in seen] == [("POST", "/items", content_type)] * 3
    batches = [records_of(r.body) for r in seen]
    assert sorted(len(batch) for batch in batches) == [1, 2, 2]
    sent = [record for batch in batches for record in batch]
    assert {tuple(record) for record in sent} == {("id", "email")}  # plan excluded
    assert len({record["email"] for record in sent}) == 5


def test_delete_reaches_each_items_id_with_the_value_in_the_path(live, e2e, e2e_worker, http_receiver, users):
    model = users(3)
    target = connection(live, http_receiver)
    sync_id = created(sync(live, target, model, mode="updateOrCreate", method="DELETE",
                           url=f"{http_receiver.url}/items/{{id}}"))
    run = run_sync(live, sync_id)
    assert (run["status"], run["counts"]["error"]) == ("completed", 0), run
    assert len(model.ids) == 3
    assert sorted((r.method, r.path, r.body) for r in http_receiver.requests) == \
        sorted(("DELETE", f"/items/{i}", b"") for i in model.ids)


def test_the_headers_arrive_and_the_dry_run_shows_what_is_sent_with_secrets_masked(
        live, e2e, e2e_worker, http_receiver, users):
    model = users(2)
    sync_id = created(sync(live, connection(live, http_receiver), model, method="PUT",
                           url=f"{http_receiver.url}/items/{{id}}?source=console"))
    dry_run = live.post(f"/api/syncs/{sync_id}/dry_run", json={"rows": 2})
    assert dry_run.status_code == 200, dry_run.text
    assert SECRET not in dry_run.text and TOKEN not in dry_run.text
    previews = dry_run.json()["data"]["requests"]
    assert http_receiver.requests == []  # a dry run sends nothing

    run = run_sync(live, sync_id)
    assert (run["status"], run["counts"]["error"]) == ("completed", 0), run
    sent = sorted(http_receiver.requests, key=lambda r: r.path)
    assert len(previews) == len(sent) == 2
    for preview, received in zip(sorted(previews, key=lambda p: p["url"]), sent):
        assert preview["headers"] == {"Content-Type": "application/json", "X-Api-Key": MASK, "X-Source": MASK,
                                      "Authorization": MASK}
        assert received.headers["x-api-key"] == SECRET and received.headers["x-source"] == "console"
        assert received.headers["authorization"] == f"Bearer {TOKEN}"
        assert received.headers["content-type"] == preview["headers"]["Content-Type"]
        assert (preview["method"], preview["url"], preview["body"].encode()) == \
            ("PUT", f"{http_receiver.url}{received.path}", received.body)
        assert received.method == "PUT" and received.path.endswith("?source=console")


def test_a_test_send_delivers_one_request_and_shows_status_and_reason_only(
        live, e2e, e2e_worker, http_receiver, users):
    model = users(3)
    sync_id = created(sync(live, connection(live, http_receiver), model, batch=True, batch_size=10))
    http_receiver.answer(201, body={"echo": "receiver-words-stay-out", "token": TOKEN})
    preview = live.post(f"/api/syncs/{sync_id}/dry_run", json={}).json()["data"]
    [batch] = preview["requests"]
    assert batch["rows"] == [0, 1, 2]

    sent = live.post(f"/api/syncs/{sync_id}/test_send", json={"row": 1})
    assert sent.status_code == 200, sent.text
    answer = sent.json()["data"]
    assert (answer["row"], answer["status"], answer["reason"]) == (1, 201, "Created")
    assert "receiver-words-stay-out" not in sent.text and TOKEN not in sent.text and SECRET not in sent.text
    [received] = http_receiver.requests
    assert received.json() == [json.loads(batch["body"])[1]]  # row 1 alone, in the sync's body shape
    assert answer["request"]["body"].encode() == received.body

    out_of_range = live.post(f"/api/syncs/{sync_id}/test_send", json={"row": 5})
    assert out_of_range.status_code == 400 and errors(out_of_range)[0][0] == "row", out_of_range.text
    assert len(http_receiver.requests) == 1


def test_settings_are_accepted_on_the_connection_and_the_sync_and_bad_ones_refused_by_field(
        live, e2e, sandbox, http_receiver, users, trap):
    on_connection = connection(live, http_receiver, method="DELETE", exclude_attributes=["plan"], batch=True,
                               batch_size=50, batch_format="json_object", batch_key="items")
    stored = live.get(f"/api/connections/{on_connection}").json()["data"]["configuration"]
    assert {k: stored[k] for k in ("method", "exclude_attributes", "batch", "batch_size", "batch_format",
                                   "batch_key")} == {"method": "DELETE", "exclude_attributes": ["plan"],
                                                     "batch": True, "batch_size": 50, "batch_format": "json_object",
                                                     "batch_key": "items"}
    for options, field in [({"batch_size": 0}, "configuration.batch_size"),
                           ({"method": "GET"}, "configuration.method"),
                           ({"url": "http://{host}.example/items"}, "configuration.url"),
                           ({"batch": True, "batch_format": "json_object"}, "configuration.batch_key")]:
        refused = live.post("/api/connections", json={"name": "Bad", "type": "httpapi", "configuration": {
            "url": f"{http_receiver.url}/items", **options}})
        assert refused.status_code == 400, (options, refused.text)
        assert [f for f, _ in errors(refused)] == [field], (options, refused.text)

    model = users(2)
    target = connection(live, http_receiver)
    for options, field, says in [
        ({"batch_size": 0}, "target.configuration.batch_size", "must be a whole number from 1 to 10000"),
        ({"method": "GET"}, "target.configuration.method", "must be one of POST, PUT, PATCH, DELETE"),
        ({"url": f"http://{{host}}:{trap.port}/x"}, "target.configuration.url", "may hold {field} placeholders"),
        ({"url": f"{sandbox.url}/webhook/x"}, "target.configuration.url", "must be on the connection's host"),
        ({"url": f"http://127.0.0.1:{trap.port}/x"}, "target.configuration.url", "must be on the connection's host"),
        ({"url": "http://169.254.169.254/latest/"}, "target.configuration.url", "must be on the connection's host"),
        ({"batch": True, "batch_format": "json_object"}, "target.configuration.batch_key", "is required"),
        ({"exclude_attributes": 7}, "target.configuration.exclude_attributes", "must be a list of names"),
        ({"headers": "X-Other:1"}, "target.configuration.headers", "is not an option"),
    ]:
        refused = sync(live, target, model, **options)
        assert refused.status_code == 400, (options, refused.text)
        [(named, message)] = errors(refused)
        assert named == field and message.startswith(says), (options, message)
    assert trap.connections == 0 and http_receiver.requests == []


def test_a_test_send_to_a_stored_refused_address_is_refused_before_connecting(
        live, e2e, http_receiver, users, trap, connection_of):
    """The connection's URL as an older console (or a direct database write) may have left it."""
    target = connection(live, http_receiver)
    sync_id = created(sync(live, target, users(1)))
    Connection.objects.filter(pk=target).update(configuration={"url": f"http://127.0.0.1:{trap.port}/items"})
    sent = live.post(f"/api/syncs/{sync_id}/test_send", json={"row": 0})
    assert (sent.status_code, sent.json()["key"]) == (400, "test_send_failed"), sent.text
    assert sent.json()["message"].startswith("127.0.0.1 is a loopback address")
    assert trap.connections == 0 and http_receiver.requests == []

    salesloft = connection_of("salesloft")
    other = live.post("/api/syncs", json={
        "name": "Not an HTTP target", "mode": "updateOrCreate", "schedule": {"frequency": "manual"},
        "target": {"connection_id": str(salesloft.pk), "object": "cadence:10"},
        "identity": {"source": {"field": "email", "model_id": str(users(1).pk)}, "target": "Email",
                     "function": "Equality"}, "fields": []})
    other_id = created(other)
    for path in ("dry_run", "test_send"):
        refused = live.post(f"/api/syncs/{other_id}/{path}", json={})
        assert (refused.status_code, refused.json()["key"]) == (400, "not_http_target"), refused.text
