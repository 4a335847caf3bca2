"""One instance per test session of a server that several conftests import as a fixture.

pytest makes each import of a fixture function a fixture of its own, with its own session
instance. The e2e worker is one process with one environment (SANDBOX_URL,
SNOWFLAKE_ENDPOINT, EGRESS_ALLOW), so the servers it is told about, and the worker itself,
must be the ones every test sees: each starts once and stops after its last user.

    @pytest.fixture(scope="session")
    def sandbox_server():
        with shared("sandbox", started_sandbox) as server:
            yield server
"""

from contextlib import ExitStack, contextmanager

_started = {}  # name -> [value, the ExitStack that stops it, users]


@contextmanager
def shared(name, start):
    """The running instance called `name`; `start()` is a context manager that starts it."""
    if name not in _started:
        stack = ExitStack()
        _started[name] = [stack.enter_context(start()), stack, 0]
    entry = _started[name]
    entry[2] += 1
    try:
        yield entry[0]
    finally:
        entry[2] -= 1
        if entry[2] == 0:
            del _started[name]
            entry[1].close()
