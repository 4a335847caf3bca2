"""A connection's API usage through the API: GET /api/connections/{id}/usage (the SDK's
connections.get_usage) and api_calls_last_24_hours on the connection."""

import pytest
from polytomic.errors import NotFoundError

from console.accounts.services import sign_up
from console.connections.sessions import provider_session
from tests.sandbox.connections import sandbox_connection
from tests.sdk_strict import strict_sdk

pytestmark = pytest.mark.django_db(transaction=True)


def spend(connection, calls: int):
    session = provider_session(connection)
    for _ in range(calls):
        assert session.http.get("sobjects").status_code == 200


@pytest.fixture
def salesforce(organization, on_sandbox):
    return sandbox_connection(organization, "salesforce", {"enforce_api_limits": True, "daily_api_calls": 50},
                              sandbox=on_sandbox)


def test_sdk_get_usage_reports_the_last_24_hours_and_each_day(live_server, api_key, salesforce):
    client = strict_sdk(live_server.url, api_key, allow=["$.data.byDay"])
    assert client.connections.get_usage(str(salesforce.pk)).data.calls_last24h == 0

    spend(salesforce, 3)
    report = client.connections.get_usage(str(salesforce.pk)).data
    assert (report.connection_id, report.calls_last24h, report.reports_sync_stats, report.by_sync) == (
        str(salesforce.pk), 3, False, [])


def test_usage_by_day_starts_with_today(api, salesforce):
    spend(salesforce, 2)
    body = api.get(f"/api/connections/{salesforce.pk}/usage").json()["data"]
    assert len(body["byDay"]) == 7
    assert body["byDay"][0]["calls"] == 2 and [day["calls"] for day in body["byDay"][1:]] == [0] * 6
    assert body["byDay"][0]["day"] > body["byDay"][1]["day"]


def test_connection_answers_carry_api_calls_last_24_hours(api, salesforce):
    spend(salesforce, 4)
    assert api.get(f"/api/connections/{salesforce.pk}").json()["data"]["api_calls_last_24_hours"] == 4
    listed = {row["id"]: row for row in api.get("/api/connections").json()["data"]}
    assert listed[str(salesforce.pk)]["api_calls_last_24_hours"] == 4


def test_usage_of_another_organizations_connection_is_not_found(live_server, api_key, salesforce):
    other = sign_up("other@example.com", "correct-horse-battery", "Other").memberships.get().organization
    foreign = sandbox_connection(other, "salesforce", {"domain": "other.my.salesforce.com"})
    with pytest.raises(NotFoundError):
        strict_sdk(live_server.url, api_key).connections.get_usage(str(foreign.pk))
