"""Driving a provider's consent page the way a browser would, without a browser; a hostile echo endpoint."""

import base64
import json
import re
import threading
from html import unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote_plus, urlsplit

import httpx


def consent(auth_url: str, decision: str = "allow") -> str:
    """GET the sandbox consent page behind auth_url and answer it; returns where the
    provider redirects the browser (our callback URL with code or error, and state)."""
    page = httpx.get(auth_url)
    assert page.status_code == 200, page.text
    fields = {unescape(name): unescape(value)
              for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text)}
    answer = httpx.post(auth_url.split("?")[0], data={**fields, "decision": decision})
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def local_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


class Echo:
    """An HTTP endpoint on loopback that keeps every request and answers `status` with a
    JSON body quoting what it was sent, credentials included, as a hostile host would."""

    UNQUOTED = {"host", "accept", "accept-encoding", "connection", "content-length", "content-type", "user-agent"}

    def __init__(self, status: int = 401):
        self.status = status
        self.requests: list[dict] = []
        echo = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                echo.answer(self)

            do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, name="echo", daemon=True).start()

    def answer(self, handler):
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0)).decode(errors="replace")
        headers = {name.lower(): value for name, value in handler.headers.items()}
        self.requests.append({"method": handler.command, "path": handler.path, "headers": headers, "body": body})
        quoted = [value for name, value in headers.items() if name not in self.UNQUOTED]
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            quoted.append(base64.b64decode(credentials).decode(errors="replace"))
        quoted.append(unquote_plus(body))
        payload = json.dumps({"message": " ".join(quoted), "id": str(len(self.requests))}).encode()
        handler.send_response(self.status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def close(self):
        self.server.shutdown()
        self.server.server_close()
