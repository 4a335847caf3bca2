"""Run the sandbox app on a local port in a background thread.

Served by waitress, HTTP/1.1 with keep-alive, so clients reuse their connections as they
do with the real providers (and benchmarks measure the engine, not new connections).
"""

from __future__ import annotations

import logging
import threading

from waitress import wasyncore
from waitress.server import create_server

from .app import make_app
from .state import State

THREADS = 32  # requests served at once; idle keep-alive connections hold no thread
access_log = logging.getLogger("integrations.sandbox.access")


def logged(app):
    """The app, logging each request's method, path and status."""

    def logging_app(environ, start_response):
        def start(status, headers, exc_info=None):
            access_log.info("%s %s %s", environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), status)
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return logging_app


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
        self._server = create_server(self.app if quiet else logged(self.app), host=host, port=port,
                                     threads=THREADS, ident="sandbox")
        self.port = int(self._server.effective_port)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "SandboxServer":
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.run, name="sandbox", daemon=True)
            self._thread.start()
        return self

    def stop(self):
        if self._thread is not None:
            # closing every socket from the loop's own thread ends its loop
            self._server.trigger.pull_trigger(lambda: wasyncore.close_all(self._server._map))
            self._thread.join()
            self._thread = None
        else:
            wasyncore.close_all(self._server._map)
        self._server.task_dispatcher.shutdown()

    def serve_forever(self):
        """Serve in the calling thread (the command line uses this)."""
        self._server.run()

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
