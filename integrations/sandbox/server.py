"""Run the sandbox app on a local port in a background thread."""

from __future__ import annotations

import threading

from werkzeug.serving import WSGIRequestHandler, make_server

from .app import make_app
from .state import State


class QuietHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        pass


class SandboxServer:
    """SandboxServer(port=0, state_path=None, host="127.0.0.1", **settings).

    port 0 picks a free port; state_path None keeps state in memory (shared by
    all server threads). Settings are the app's (token_lifetime, rate budgets, ...).
    `providers` replaces the provider list (tests of the core use toy modules);
    `quiet` drops the per-request access log.
    """

    def __init__(self, port: int = 0, state_path: str | None = None, host: str = "127.0.0.1",
                 providers=None, quiet: bool = True, **settings):
        self.host = host
        self.state = State(state_path)
        self.app = make_app(self.state, settings, providers)
        handler = QuietHandler if quiet else WSGIRequestHandler
        self._server = make_server(host, port, self.app, threaded=True, request_handler=handler)
        self.port = self._server.server_port
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "SandboxServer":
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, name="sandbox", daemon=True)
            self._thread.start()
        return self

    def stop(self):
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def serve_forever(self):
        """Serve in the calling thread (the command line uses this)."""
        self._server.serve_forever()

    def reset(self):
        self.app.reset()

    @property
    def clock(self):
        """The sandbox's time: `sandbox.clock.advance(61)` closes a rate window without waiting."""
        return self.state.clock

    def __enter__(self) -> "SandboxServer":
        return self.start()

    def __exit__(self, *exc):
        self.stop()
