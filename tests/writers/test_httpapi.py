"""HTTP API writer against the sandbox's webhook sink (/webhook/...), which keeps every request."""

from datetime import date
from decimal import Decimal

import pytest

from integrations.base import ConnectorError

from .conftest import record


@pytest.fixture
def sink(sandbox):
    return f"{sandbox.url}/webhook"


def received(inspector) -> list[dict]:
    return inspector.docs("webhook", "requests")


def rows(n):
    return [record(f"user{i}@example.com", email=f"user{i}@example.com", plan="pro", secret_note=f"n{i}")
            for i in range(n)]


def test_one_request_per_record_without_batching(session_for, inspector, sink):
    from integrations.base import WriteSpec
    from integrations.httpapi.writer import make_writer

    session = session_for("httpapi", {"headers": [{"name": "X-Source", "value": "polytomic"},
                                                  {"name": "X-Env", "value": "test"}]})
    writer = make_writer(session, WriteSpec("endpoint", "append", configuration={
        "url": f"{sink}/hooks/users", "method": "PUT", "exclude_attributes": ["secret_note"]}))
    outcomes = writer.write(rows(3))
    assert [o.ok for o in outcomes] == [True, True, True]
    assert [o.target_id for o in outcomes] == ["1", "2", "3"]  # the sink answers {"id": ...}
    seen = received(inspector)
    assert [r["method"] for r in seen] == ["PUT"] * 3 and {r["path"] for r in seen} == {"/hooks/users"}
    assert seen[0]["body"] == {"email": "user0@example.com", "plan": "pro"}
    assert seen[0]["headers"]["x-source"] == "polytomic" and seen[0]["headers"]["x-env"] == "test"
    assert seen[0]["headers"]["content-type"] == "application/json"


def test_batching_sends_json_arrays_of_at_most_the_batch_size(writer_for, inspector, sink):
    writer = writer_for("httpapi", "endpoint", mode="append",
                        configuration={"url": f"{sink}/bulk", "batch": True, "batch_size": 2})
    assert writer.batch_size == 2
    outcomes = writer.write(rows(5))
    assert all(o.ok for o in outcomes)
    bodies = [r["body"] for r in received(inspector)]
    assert [len(b) for b in bodies] == [2, 2, 1]
    assert [item["email"] for b in bodies for item in b] == [f"user{i}@example.com" for i in range(5)]


def test_a_refusal_fails_the_batch_with_the_status_but_not_the_body(writer_for, inspector, sink):
    writer = writer_for("httpapi", "endpoint", mode="append",
                        configuration={"url": f"{sink}/status/422/bulk", "batch": True, "batch_size": 10})
    outcomes = writer.write(rows(3))
    assert [o.ok for o in outcomes] == [False] * 3
    assert [o.error for o in outcomes] == ["HTTP 422 Unprocessable Entity"] * 3  # the sink's body stays out
    assert outcomes[0].payload == {"email": "user0@example.com", "plan": "pro", "secret_note": "n0"}


def test_connection_settings_and_url_placeholders(session_for, inspector, sink):
    from integrations.base import WriteSpec
    from integrations.writers import make_writer

    session = session_for("httpapi", {"url": f"{sink}/accounts/{{account_id}}", "method": "PATCH"})
    writer = make_writer("httpapi", session, WriteSpec(object_id="endpoint", mode="updateOrCreate",
                                                       identity_field="account_id"))
    outcomes = writer.write([
        record("a 1", account_id="a 1", renewal=date(2026, 3, 1), seats=Decimal("12")),
        record("b2", account_id="", renewal=None, seats=Decimal("1.5")),
    ])
    assert outcomes[0].ok
    assert not outcomes[1].ok and "account_id" in outcomes[1].error
    [seen] = received(inspector)
    assert seen["method"] == "PATCH" and seen["path"] == "/accounts/a 1"  # sent as a%201, decoded by the sink
    assert seen["body"] == {"account_id": "a 1", "renewal": "2026-03-01", "seats": 12}


def test_bad_configuration_is_refused(writer_for):
    with pytest.raises(ConnectorError):
        writer_for("httpapi", "endpoint", configuration={"url": "ftp://example.com"})
    with pytest.raises(ConnectorError):
        writer_for("httpapi", "endpoint", configuration={"url": "http://example.com", "method": "TRACE"})


def test_seed_004_manual_salesloft_destination(session_for, sandbox, inspector):
    """Seed 004's manual configuration: POST each record to Salesloft's account upserts, the credential's
    Authorization on the session, an extra header, an attribute left out; then PUT one account by id."""
    from integrations.base import WriteSpec
    from integrations.httpapi.writer import make_writer

    session = session_for("httpapi", {"url": f"{sandbox.url}/salesloft/v2/account_upserts", "method": "POST",
                                      "auth_method": "bearer", "token": "sandbox-api-key",
                                      "headers": [{"name": "X-Request-Source", "value": "polytomic"}]})
    upserts = make_writer(session, WriteSpec("endpoint", "updateOrCreate", "domain", configuration={
        "exclude_attributes": "internal_score"}))
    outcomes = upserts.write([
        record("acme.example", upsert_key="domain", name="Acme", domain="acme.example", internal_score=9),
        record("globex.example", upsert_key="domain", name="Globex", domain="globex.example", internal_score=3),
        record("", upsert_key="domain", name="No domain", domain=""),
    ])
    assert [o.ok for o in outcomes] == [True, True, False]
    assert outcomes[2].error == "HTTP 422 Unprocessable Entity"  # an HTTP API target's body is never quoted
    accounts = {a["domain"]: a for a in inspector.docs("salesloft", "accounts")}
    assert accounts["acme.example"]["name"] == "Acme" and "internal_score" not in accounts["acme.example"]

    by_id = make_writer(session, WriteSpec("endpoint", "update", "id", configuration={
        "url": f"{sandbox.url}/salesloft/v2/accounts/{{id}}", "method": "PUT", "exclude_attributes": ["id"]}))
    [renamed] = by_id.write([record(str(accounts["acme.example"]["id"]), id=accounts["acme.example"]["id"],
                                    name="Acme Corporation")])
    assert renamed.ok
    assert {a["domain"]: a for a in inspector.docs("salesloft", "accounts")}["acme.example"]["name"] == \
        "Acme Corporation"


def test_a_value_in_the_url_stays_in_its_path_segment(writer_for, inspector, sink):
    writer = writer_for("httpapi", "endpoint", mode="append",
                        configuration={"url": f"{sink}/items/{{id}}", "method": "DELETE"})
    [planned], refused = writer.requests([record("x", id="@evil.example/../x?y#z")])
    assert refused == {}
    assert planned.url == f"{sink}/items/%40evil.example%2F..%2Fx%3Fy%23z" and planned.content is None
    assert [o.ok for o in writer.write([record("x", id="@evil.example/../x?y#z")])] == [True]
    [seen] = received(inspector)
    assert (seen["method"], seen["path"]) == ("DELETE", "/items/@evil.example/../x?y#z")  # decoded by the sink


def test_a_placeholder_in_the_host_is_refused(writer_for, sink):
    with pytest.raises(ConnectorError, match="never in its host"):
        writer_for("httpapi", "endpoint", configuration={"url": "http://{tenant}.example.com/items"})


def test_a_sync_url_off_the_connection_host_is_refused(writer_for, sandbox):
    """The connection's headers and credentials go with every request: a sync cannot send them elsewhere."""
    port = int(sandbox.url.rsplit(":", 1)[1])
    with pytest.raises(ConnectorError, match="must be on the connection's host"):
        writer_for("httpapi", "endpoint", configuration={"url": f"http://127.0.0.1:{port + 1}/items"})
