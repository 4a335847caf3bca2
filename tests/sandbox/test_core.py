"""The sandbox core on its own: the store, a toy provider's OAuth, faults, counting, inspection."""

import threading
import time
import types
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from werkzeug.routing import Rule

from integrations.sandbox import SandboxServer, oauth
from integrations.sandbox.http import json_response
from integrations.sandbox.state import State

CALLBACK = "http://127.0.0.1:8000/connections/oauth/callback"


# -- state -----------------------------------------------------------------------

def test_state_documents_and_queries():
    state = State()
    state.ensure_index("email")  # indexed and plain fields must answer alike
    first = state.insert("people", {"email": "a@x.com", "n": 2})
    second = state.insert("people", {"email": "b@x.com", "n": 1, "tags": ["x"]})
    assert (first["id"], second["id"]) == (1, 2)
    assert state.insert("people", {"id": 10, "email": "c@x.com", "n": 3})["id"] == 10
    assert state.next_id("people") == 11  # counters stay ahead of explicit ids
    assert state.insert("flows", {"id": "abc"})["id"] == "abc"
    with pytest.raises(ValueError):
        state.insert("flows", {"id": "abc"})

    assert state.get("people", 2)["tags"] == ["x"]
    assert state.get("people", "2") is None  # ids keep their type
    assert state.update("people", 2, {"n": 5})["n"] == 5
    assert [d["id"] for d in state.find("people", email=["a@x.com", "c@x.com"])] == [1, 10]
    assert state.find_one("people", email="b@x.com")["id"] == 2
    assert state.find_one("people", email="zzz") is None
    assert [d["id"] for d in state.page("people", 0, 2, order_by="-n")] == [2, 10]
    assert [d["id"] for d in state.page("people", 1, 5)] == [2, 10]
    assert state.count("people") == 3 and state.count("people", n=5) == 1
    assert state.find("people", missing=None) and not state.find("people", email=None)
    assert state.delete("people", 1) and not state.delete("people", 1)

    scoped = state.scoped("salesloft")
    scoped.insert("people", {"email": "s@x.com"})
    assert scoped.count("people") == 1 and state.count("salesloft/people") == 1
    assert scoped.collections() == ["people"]

    state.reset()
    assert state.count("people") == 0 and state.next_id("people") == 1


def test_state_is_safe_across_threads():
    state = State()

    def writer():
        for i in range(500):
            state.insert("rows", {"i": i})

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert state.count("rows") == 4000
    assert len({d["id"] for d in state.find("rows")}) == 4000

    with state.transaction():
        for i in range(1000):
            state.insert("bulk", {"i": i, "email": f"p{i}@x.com"})
    assert state.count("bulk") == 1000


def test_state_file_survives_restart(tmp_path):
    path = str(tmp_path / "sandbox.sqlite3")
    state = State(path)
    state.insert("people", {"email": "a@x.com"})
    state.close()
    assert State(path).find_one("people", email="a@x.com")["id"] == 1


def test_an_index_holds_only_the_documents_that_have_the_field(tmp_path):
    path = str(tmp_path / "sandbox.sqlite3")
    older = State(path)
    older._db.execute("CREATE INDEX ix_email ON docs (collection, json_extract(body, '$.\"email\"'))")
    older.close()
    state = State(path)
    state.ensure_index("email")
    state.insert("people", {"email": "a@x.com"})
    state.insert("people", {"name": "no email"})
    indexes = dict(state._db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name LIKE 'ix%'"))
    assert list(indexes) == ["ixv_email"] and "IS NOT NULL" in indexes["ixv_email"], "the older index is gone"
    plan = state._db.execute("EXPLAIN QUERY PLAN SELECT body FROM docs WHERE collection = ? "
                             "AND json_extract(body, '$.\"email\"') IN (?, ?)", ["people", "a", "b"]).fetchall()
    assert "ixv_email" in str(plan)
    assert [d["name"] for d in state.find("people", email=None)] == ["no email"]


# -- a toy provider exercising the module contract -------------------------------

def _toy_error(ctx, status, message, headers=None):
    return json_response({"toy_error": message, "code": status}, status, headers)


TOY_OAUTH = oauth.OAuthConfig(
    name="Toy CRM", scopes=("things:read",),
    token_extras=lambda ctx, token: {"instance_url": ctx.provider_url},
    unauthorized=lambda ctx, reason: _toy_error(ctx, 401, f"token {reason}"),
    api_key_bearer=True, api_keys=({"id": "toy-key"},),
)


def _things(ctx, request):
    oauth.authenticate(ctx, request)
    return json_response({"things": ctx.state.find("things")})


def _thing(ctx, request, id):
    oauth.authenticate(ctx, request)
    thing = ctx.state.get("things", id)
    return json_response(thing) if thing else _toy_error(ctx, 404, "no such thing")


def _seed(state):
    state.insert("things", {"name": "first"})
    state.insert("things", {"name": "second"})


toy = types.SimpleNamespace(
    NAME="toy", PREFIX="/toy", OAUTH=TOY_OAUTH, SETTINGS={"toy_limit": 5},
    RULES=[
        Rule("/authorize", endpoint=oauth.authorize(TOY_OAUTH), methods=["GET", "POST"]),
        Rule("/token", endpoint=oauth.token(TOY_OAUTH), methods=["POST"]),
        Rule("/revoke", endpoint=oauth.revoke(TOY_OAUTH), methods=["POST"]),
        Rule("/things", endpoint=_things, methods=["GET"]),
        Rule("/things/<int:id>", endpoint=_thing, methods=["GET"]),
    ],
    seed=_seed, error_response=_toy_error,
)


@pytest.fixture(scope="module")
def toy_server():
    with SandboxServer(providers=[toy]) as server:
        yield server


@pytest.fixture
def server(toy_server):
    toy_server.reset()
    return toy_server


def _authorize(server, decision="allow", redirect_uri=CALLBACK, **extra):
    params = {"client_id": "sandbox-client", "redirect_uri": redirect_uri,
              "response_type": "code", "state": "xyz", **extra}
    page = httpx.get(f"{server.url}/toy/authorize", params=params)
    assert page.status_code == 200 and "Toy CRM" in page.text and "things:read" in page.text
    answer = httpx.post(f"{server.url}/toy/authorize", data={**params, "decision": decision})
    assert answer.status_code == 302
    return parse_qs(urlsplit(answer.headers["location"]).query)


def _exchange(server, code, **overrides):
    form = {"grant_type": "authorization_code", "code": code, "client_id": "sandbox-client",
            "client_secret": "sandbox-secret", "redirect_uri": CALLBACK, **overrides}
    return httpx.post(f"{server.url}/toy/token", data=form)


def test_toy_oauth_dance_and_api_call(server):
    query = _authorize(server)
    assert query["state"] == ["xyz"]
    tokens = _exchange(server, query["code"][0]).json()
    assert tokens["instance_url"] == f"{server.url}/toy"
    assert tokens["expires_in"] == 3600 and tokens["scope"] == "things:read"
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    things = httpx.get(f"{server.url}/toy/things", headers=headers)
    assert [t["name"] for t in things.json()["things"]] == ["first", "second"]
    assert httpx.get(f"{server.url}/toy/things/9", headers=headers).json() == {"toy_error": "no such thing", "code": 404}

    # the code works once; a replay is refused and voids the tokens it bought
    assert _exchange(server, query["code"][0]).json()["error"] == "invalid_grant"
    assert httpx.get(f"{server.url}/toy/things", headers=headers).status_code == 401


def test_toy_oauth_refusals(server):
    assert _authorize(server, decision="deny")["error"] == ["access_denied"]
    code = _authorize(server)["code"][0]
    assert _exchange(server, code, client_secret="wrong").status_code == 401
    assert _exchange(server, code, redirect_uri="http://localhost:9/other").json()["error"] == "invalid_grant"
    bad = httpx.get(f"{server.url}/toy/authorize", params={
        "client_id": "sandbox-client", "redirect_uri": "https://evil.example/cb", "response_type": "code"})
    assert bad.status_code == 400
    assert httpx.get(f"{server.url}/toy/authorize", params={"client_id": "nobody"}).status_code == 400


def test_toy_refresh_expiry_revocation_and_api_key(server):
    tokens = _exchange(server, _authorize(server)["code"][0]).json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert httpx.post(f"{server.url}/_sandbox/oauth/toy/expire-tokens").json()["expired"] == 1
    assert httpx.get(f"{server.url}/toy/things", headers=headers).json()["toy_error"] == "token expired"

    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
               "client_id": "sandbox-client", "client_secret": "sandbox-secret"}
    renewed = httpx.post(f"{server.url}/toy/token", data=refresh).json()
    assert renewed["refresh_token"] != tokens["refresh_token"]  # rotated, single use
    assert httpx.post(f"{server.url}/toy/token", data=refresh).json()["error"] == "invalid_grant"
    headers = {"Authorization": f"Bearer {renewed['access_token']}"}
    assert httpx.get(f"{server.url}/toy/things", headers=headers).status_code == 200

    httpx.post(f"{server.url}/toy/revoke", data={"token": renewed["refresh_token"]})
    assert httpx.get(f"{server.url}/toy/things", headers=headers).json()["toy_error"] == "token revoked"

    assert httpx.get(f"{server.url}/toy/things", headers={"Authorization": "Bearer toy-key"}).status_code == 200
    assert httpx.get(f"{server.url}/toy/things").json()["toy_error"] == "token missing"


def test_token_lifetime_setting(server):
    httpx.put(f"{server.url}/_sandbox/settings", json={"token_lifetime": 1})
    tokens = _exchange(server, _authorize(server)["code"][0]).json()
    assert tokens["expires_in"] == 1
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert httpx.get(f"{server.url}/toy/things", headers=headers).status_code == 200
    server.clock.advance(1.1)
    assert httpx.get(f"{server.url}/toy/things", headers=headers).status_code == 401
    assert httpx.put(f"{server.url}/_sandbox/settings", json={"nonsense": 1}).status_code == 400
    server.reset()
    assert httpx.get(f"{server.url}/_sandbox/settings").json()["token_lifetime"] == 3600


def test_registered_client_needs_exact_redirect(server):
    created = httpx.post(f"{server.url}/_sandbox/oauth/clients", json={
        "provider": "toy", "client_id": "acme", "client_secret": "s3", "redirect_uris": ["https://acme.test/cb"]})
    assert created.status_code == 201
    params = {"client_id": "acme", "response_type": "code", "state": "1"}
    assert httpx.get(f"{server.url}/toy/authorize", params={**params, "redirect_uri": CALLBACK}).status_code == 400
    answer = httpx.post(f"{server.url}/toy/authorize",
                        data={**params, "redirect_uri": "https://acme.test/cb", "decision": "allow"})
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    tokens = httpx.post(f"{server.url}/toy/token", auth=("acme", "s3"), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": "https://acme.test/cb"})
    assert "access_token" in tokens.json()


def test_faults_counting_and_inspection(server):
    key = {"Authorization": "Bearer toy-key"}
    assert httpx.put(f"{server.url}/_sandbox/faults", json={"burst_429": 2, "retry_after": 3}).status_code == 200
    first = httpx.get(f"{server.url}/toy/things", headers=key)
    assert first.status_code == 429 and first.headers["retry-after"] == "3" and "toy_error" in first.json()
    assert httpx.get(f"{server.url}/toy/things", headers=key).status_code == 429
    assert httpx.get(f"{server.url}/toy/things", headers=key).status_code == 200

    httpx.put(f"{server.url}/_sandbox/faults", json={"error_rate": 1.0, "path": "/toy/things/"})
    assert httpx.get(f"{server.url}/toy/things/1", headers=key).status_code in (500, 502, 503)
    assert httpx.get(f"{server.url}/toy/things", headers=key).status_code == 200
    assert httpx.put(f"{server.url}/_sandbox/faults", json={"error_rate": 2}).status_code == 400
    httpx.put(f"{server.url}/_sandbox/faults", json={"error_rate": 0, "latency_ms": 200, "path": None})
    started = time.perf_counter()
    httpx.get(f"{server.url}/toy/things", headers=key)
    assert time.perf_counter() - started >= 0.2

    report = httpx.get(f"{server.url}/_sandbox/requests", params={"log": 1}).json()
    assert report["providers"]["toy"] == 6
    assert report["rules"]["GET /toy/things"] == 5 and report["rules"]["GET /toy/things/<int:id>"] == 1
    assert [entry["status"] for entry in report["log"]][:3] == [429, 429, 200]

    seeded = httpx.post(f"{server.url}/_sandbox/state/toy/things", json=[{"name": "third"}, {"id": 1, "name": "renamed"}])
    assert seeded.status_code == 201
    names = [t["name"] for t in httpx.get(f"{server.url}/_sandbox/state/toy/things").json()["data"]]
    assert names == ["renamed", "second", "third"]
    assert httpx.get(f"{server.url}/_sandbox/state/nobody/things").status_code == 404

    assert httpx.get(f"{server.url}/toy/nowhere").json() == {"toy_error": "Not Found", "code": 404}
    assert httpx.post(f"{server.url}/_sandbox/reset").status_code == 200
    assert httpx.get(f"{server.url}/_sandbox/requests").json()["total"] == 0
    assert httpx.get(f"{server.url}/_sandbox/faults").json()["latency_ms"] == 0


def test_the_server_keeps_a_connection_alive_across_requests(server):
    """HTTP/1.1 keep-alive: one client connection serves many requests, as the providers' do."""
    import http.client

    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        connection.request("GET", "/_sandbox/requests")
        first = connection.getresponse()
        first.read()
        opened = connection.sock
        for _ in range(5):
            connection.request("GET", "/_sandbox/requests")
            answer = connection.getresponse()
            answer.read()
            assert answer.status == 200 and answer.version == 11
            assert connection.sock is opened  # http.client opens a new socket when the server closes
    finally:
        connection.close()
