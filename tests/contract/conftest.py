"""The contract suite's fixtures: the sandbox, its inspection API, and stored connections
on it whose sessions come from provider_session, the path workers and web requests take."""

import pytest

from tests.sandbox.conftest import sandbox, sandbox_server  # noqa: F401  (fixtures)
from tests.writers.conftest import Inspector


@pytest.fixture
def inspector(sandbox):  # noqa: F811
    return Inspector(sandbox.url)


@pytest.fixture
def on_sandbox(settings, sandbox):  # noqa: F811
    settings.SANDBOX_URL = sandbox.url
    return sandbox


@pytest.fixture
def open_sessions():
    """Sessions a test opened, closed after it."""
    opened = []
    yield opened
    for session in opened:
        session.http.close()


@pytest.fixture(autouse=True)
def published_contract(request, monkeypatch):
    """For a provider that publishes an OpenAPI spec (openapi.py), every request its sessions
    send during the test, and every answer, must match the spec."""
    from console.connections import sessions

    from .openapi import published

    callspec = getattr(request.node, "callspec", None)
    contract = published(callspec.params.get("type_id")) if callspec else None
    if contract is None:
        yield []
        return
    seen = []
    opened = sessions.provider_session

    def recording(*args, **kwargs):
        session = opened(*args, **kwargs)
        session.http.event_hooks["response"].append(lambda response: (response.read(), seen.append(response)))
        return session

    monkeypatch.setattr(sessions, "provider_session", recording)
    yield seen
    problems = [problem for response in seen if contract.covers(response.request)
                for problem in contract.problems(response)]
    assert not problems, "\n".join(problems)
