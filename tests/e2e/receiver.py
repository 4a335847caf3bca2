"""An HTTP server on loopback standing in for a tenant's own endpoint (an HTTP API
target, a webhook): it records every request and answers what it is told.

    receiver.answer(302, headers={"Location": "http://127.0.0.1:9/"}, path="/moved")
    receiver.answer(500)                      # every other path
    receiver.requests[0].method, .path, .headers["x-api-key"], .json()
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    method: str
    path: str
    headers: dict  # names in lower case
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"{}"
    headers: dict | None = None


class HttpReceiver:
    def __init__(self):
        self.requests: list[Received] = []
        self.answers: dict[str | None, Answer] = {}
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="http-receiver", daemon=True)

    def start(self) -> HttpReceiver:
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> HttpReceiver:
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def reset(self):
        with self.lock:
            self.requests.clear()
            self.answers.clear()

    def answer(self, status: int = 200, body=b"{}", headers: dict | None = None, path: str | None = None):
        """What to answer on `path` (None: every path without an answer of its own);
        a dict or list body is sent as JSON."""
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            headers = {"Content-Type": "application/json", **(headers or {})}
        with self.lock:
            self.answers[path] = Answer(status, body.encode() if isinstance(body, str) else body, headers)

    def received(self, method: str, path: str, headers: dict, body: bytes) -> Answer:
        with self.lock:
            self.requests.append(Received(method, path, headers, body))
            return self.answers.get(path.split("?", 1)[0]) or self.answers.get(None) or Answer()

    def handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def handle_any(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name.lower(): value for name, value in self.headers.items()}
                answer = receiver.received(self.command, self.path, headers, body)
                self.send_response(answer.status)
                for name, value in (answer.headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

            def log_message(self, *args):
                pass

        return Handler
