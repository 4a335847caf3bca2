"""Interactive calls keep a reserved share of a connection's API budget (issue 20).

Runs spend the budget through `limiter_for` (the worker's limiter), which stops short of
the ENGINE_INTERACTIVE_SHARE; discovery and fields of a web request may spend that share,
and when even it is gone they answer 429 with Retry-After, never a 5xx.
"""

import pytest

from console.engine.ratelimit import interactive_limiter, limiter_for
from tests.sandbox.conftest import sandbox, sandbox_server  # noqa: F401  (fixtures)
from tests.sandbox.connections import sandbox_connection

pytestmark = pytest.mark.django_db


@pytest.fixture
def salesloft(organization, sandbox, settings, redis_url):  # noqa: F811
    settings.SANDBOX_URL = sandbox.url
    return sandbox_connection(organization, "salesloft", sandbox=sandbox)


def spend_what_runs_may(connection):
    """What a long sync does: take every call the runs' limiter allows this minute."""
    runs = limiter_for(connection)
    (limit, _seconds), = runs.windows
    taken = 0
    while runs.try_acquire(1) == 0:
        taken += 1
    assert 0 < taken < limit  # the runs stopped short of the whole budget
    return limit - taken


def test_discovery_and_fields_are_served_while_a_run_has_spent_its_share(api, salesloft):
    left = spend_what_runs_may(salesloft)
    assert left >= 2

    objects = api.get(f"/api/connections/{salesloft.pk}/modelsync/targetobjects?refresh=true")
    assert objects.status_code == 200, objects.content
    assert "cadence:10" in [o["id"] for o in objects.json()["data"]]
    fields = api.get(f"/api/connections/{salesloft.pk}/modelsync/target/fields?target=cadence:10&refresh=true")
    assert fields.status_code == 200, fields.content
    assert fields.json()["data"]


def test_an_exhausted_budget_answers_429_with_retry_after(api, salesloft):
    spend_what_runs_may(salesloft)
    interactive = interactive_limiter(salesloft, 0)
    while interactive.try_acquire(1) == 0:
        pass

    response = api.get(f"/api/connections/{salesloft.pk}/modelsync/targetobjects?refresh=true")
    assert response.status_code == 429, response.content
    assert int(response["Retry-After"]) >= 1
    body = response.json()
    assert body["key"] == "rate_limited"
    assert "A running sync is using this connection's API budget" in body["message"]
