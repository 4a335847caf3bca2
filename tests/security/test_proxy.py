"""Attacks on the connection proxy (POST /api/connections/{id}/proxy): paths that leave the
provider's API base, absolute URLs, overridden auth headers and private addresses are refused
before anything is sent; what comes back carries no credential of the connection."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from console.connections.models import Connection
from console.proxy.models import ProxySettings
from integrations import egress

pytestmark = [pytest.mark.django_db(transaction=True)]

TOKEN = "tok-SECRET-0123456789abcdef"
HEADER_KEY = "hdr-SECRET-9876543210"


class Echo(BaseHTTPRequestHandler):
    """Answers every request with what it received, credentials included, and headers to strip."""

    seen: list = []

    def do_GET(self):
        self.seen.append(self.path)
        body = json.dumps({"path": self.path, "headers": dict(self.headers)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Set-Cookie", f"session={TOKEN}")
        self.send_header("X-Echoed-Key", HEADER_KEY)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture
def echo(settings):
    Echo.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    settings.EGRESS_ALLOW = [*settings.EGRESS_ALLOW, egress.exact_entry(url)]
    yield url
    server.shutdown()
    server.server_close()


def http_api(organization, base_url: str) -> Connection:
    connection = Connection.objects.create(
        organization=organization, name="Echo", type="httpapi", configuration={"url": base_url, "auth_method": "bearer"},
        secrets={"token": TOKEN, "headers": [{"name": "X-Api-Key", "value": HEADER_KEY}]})
    ProxySettings.objects.create(connection=connection, enabled=True)
    return connection


def proxy(live, connection, **call):
    return live.post(f"/api/connections/{connection.pk}/proxy", json={"request": {"method": "GET", **call}})


def test_the_provider_answer_comes_back_without_credentials(live, organization, echo):
    connection = http_api(organization, f"{echo}/api/")
    answer = proxy(live, connection, path="/items", query={"page": 2})
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    echoed = json.loads(data["body"])
    assert echoed["path"] == "/api/items?page=2" and echoed["headers"]["Authorization"] == "Bearer ********"
    assert echoed["headers"]["X-Api-Key"] == "********"
    assert "set-cookie" not in {name.lower() for name in data["headers"]}
    assert data["headers"]["x-echoed-key"] == "********"
    info = live.get(f"/api/connections/{connection.pk}/proxy/info")
    for text in (answer.text, info.text):
        assert TOKEN not in text and HEADER_KEY not in text


@pytest.mark.parametrize("path", [
    "/../secret", "/api/../../secret", "/%2e%2e/secret", "/%2E%2E%2Fsecret", "/%252e%252e/secret", "/./items",
    "/items/..", "//127.0.0.1/secret", "/\\..\\secret", "/items?x=1", "/items#x", "/items /x", "items",
    "http://127.0.0.1/secret", "https://169.254.169.254/latest/meta-data",
])
def test_paths_that_leave_the_api_base_are_refused_before_sending(live, organization, echo, path):
    connection = http_api(organization, f"{echo}/api/")
    answer = proxy(live, connection, path=path)
    assert answer.status_code == 400, answer.text
    assert answer.json()["metadata"]["errors"][0]["field"] == "request.path"
    assert Echo.seen == []


def test_an_absolute_url_to_another_port_never_connects(live, organization, echo, trap):
    connection = http_api(organization, f"{echo}/api/")
    for path in (f"http://127.0.0.1:{trap.port}/x", f"//127.0.0.1:{trap.port}/x", f"/%2F127.0.0.1:{trap.port}/x"):
        answer = proxy(live, connection, path=path)
        assert answer.status_code == 400, answer.text
    assert trap.connections == 0 and Echo.seen == []


@pytest.mark.parametrize("header", ["Authorization", "authorization", "X-Api-Key", "Host", "Cookie",
                                    "X-Forwarded-For"])
def test_auth_and_inherited_headers_cannot_be_set(live, organization, echo, header):
    connection = http_api(organization, f"{echo}/api/")
    answer = proxy(live, connection, path="/items", headers={header: "Bearer mine"})
    assert answer.status_code == 400
    assert answer.json()["metadata"]["errors"][0]["field"] == f"request.headers.{header}"
    assert Echo.seen == []


@pytest.mark.parametrize("base", ["http://169.254.169.254/latest/", "http://10.0.0.1/", "http://192.168.1.1/",
                                  "http://[::ffff:169.254.169.254]/", "http://127.0.0.1:9/"])
def test_a_base_url_the_egress_policy_refuses_is_never_reached(live, organization, base):
    connection = http_api(organization, base)
    answer = proxy(live, connection, path="/latest")
    assert answer.status_code == 502, answer.text
    assert "EGRESS_ALLOW" in answer.json()["message"]  # the egress policy refused it


def test_the_proxy_is_off_until_turned_on(live, organization, echo):
    connection = http_api(organization, f"{echo}/api/")
    ProxySettings.objects.filter(connection=connection).update(enabled=False)
    assert proxy(live, connection, path="/items").status_code == 403
    assert Echo.seen == []
