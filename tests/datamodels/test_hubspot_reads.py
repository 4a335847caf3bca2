"""HubSpot model reads on the sandbox: the list endpoint page by page, or the search endpoint
when the sync's filters can be pushed down, past search's per-query result limit."""

import pytest

from console.engine.filters import Condition
from integrations.hubspot import model_source
from integrations.hubspot import sandbox as hubspot_sandbox
from tests.sandbox.conftest import sandbox, sandbox_server  # noqa: F401  (fixtures)
from tests.sandbox.connections import sandbox_connection
from tests.writers.conftest import Inspector

pytestmark = pytest.mark.django_db

COLUMNS = ["id", "email", "lifecyclestage"]


@pytest.fixture
def session(organization, sandbox, settings):  # noqa: F811
    from console.connections.sessions import provider_session

    settings.SANDBOX_URL = sandbox.url
    opened = provider_session(sandbox_connection(organization, "hubspot", sandbox=sandbox))
    paths = []
    opened.http.event_hooks["request"].append(lambda request: paths.append(f"{request.method} {request.url.path}"))
    opened.paths = paths
    yield opened
    opened.http.close()


@pytest.fixture
def contacts(sandbox):  # noqa: F811
    stages = ["customer", "lead", "customer"]
    Inspector(sandbox.url).seed("hubspot", "contacts", [
        {"properties": {"email": f"c{n}@read.example", "lifecyclestage": stages[n % 3]}} for n in range(250)])


def read_all(session, conditions=(), batch_size=40):
    return [row for batch in model_source.read(session, {"object": "contacts"}, COLUMNS, batch_size,
                                               conditions=conditions) for row in batch]


def test_without_filters_the_list_is_paged(session, contacts):
    rows = read_all(session)
    assert len(rows) == 252 and len({r["id"] for r in rows}) == 252  # the 2 seeded beside these 250
    assert all(set(r) == set(COLUMNS) for r in rows)
    assert session.paths.count("GET /hubspot/crm/v3/objects/contacts") == 3  # 100 a page
    assert not any(path.endswith("/search") for path in session.paths)


def test_filters_search_can_apply_are_pushed_down(session, contacts):
    conditions = [Condition("lifecyclestage", "Equality", "customer", ""),
                  Condition("email", "StringEndsWith", "read.example", "")]  # left to the engine
    rows = read_all(session, conditions)
    customers = [r for r in rows if r["email"].endswith("@read.example")]
    assert {r["lifecyclestage"] for r in rows} == {"customer"} and len(customers) == 167
    assert session.paths.count("POST /hubspot/crm/v3/objects/contacts/search") == 1
    assert not any(path == "GET /hubspot/crm/v3/objects/contacts" for path in session.paths)


def test_search_past_its_result_limit_starts_again_after_the_last_id(session, contacts, monkeypatch):
    monkeypatch.setattr(hubspot_sandbox, "SEARCH_LIMIT", 60)
    monkeypatch.setattr(model_source, "SEARCH_LIMIT", 60)
    monkeypatch.setattr(model_source, "SEARCH_PAGE_SIZE", 20)
    rows = read_all(session, [Condition("lifecyclestage", "Equality", "customer", "")])
    assert len(rows) == len({r["id"] for r in rows}) == 168  # 167 seeded and one of the first two
    assert session.paths.count("POST /hubspot/crm/v3/objects/contacts/search") == 9  # 168 / 20, rounded up
