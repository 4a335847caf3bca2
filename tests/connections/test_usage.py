"""Every call through a connection's session counts against its day in Redis; with
enforce_api_limits the call past daily_api_calls is refused before it is sent."""

import httpx
import pytest

from console.accounts.services import sign_up
from console.connections import sharing, usage
from console.connections.sessions import provider_session
from integrations.base import CallCapReached
from integrations.clock import OffsetClock
from tests.sandbox.connections import sandbox_connection

pytestmark = pytest.mark.django_db


def sandbox_calls(sandbox) -> int:
    return httpx.get(f"{sandbox.url}/_sandbox/requests").json()["providers"].get("salesforce", 0)


def salesforce(organization, sandbox, **configuration):
    return sandbox_connection(organization, "salesforce", configuration, sandbox=sandbox)


def describe_global(session):
    response = session.http.get("sobjects")
    assert response.status_code == 200, response.text


def test_calls_past_the_daily_cap_are_never_sent_and_resume_the_next_day(organization, on_sandbox):
    connection = salesforce(organization, on_sandbox, enforce_api_limits=True, daily_api_calls=3)
    clock = OffsetClock()
    session = provider_session(connection, clock=clock)
    before = sandbox_calls(on_sandbox)
    for _ in range(3):
        describe_global(session)
    with pytest.raises(CallCapReached) as refused:
        session.http.get("sobjects")
    assert "daily cap of 3 API calls (daily_api_calls) is spent for today" in str(refused.value)
    assert 0 < refused.value.retry_after <= 86400
    assert sandbox_calls(on_sandbox) - before == 3

    clock.advance(refused.value.retry_after + 1)  # the next UTC day
    describe_global(session)
    assert sandbox_calls(on_sandbox) - before == 4
    assert [day["calls"] for day in usage.calls_by_day(connection.pk, clock, days=2)] == [1, 3]


def test_every_session_of_a_connection_shares_one_cap(organization, on_sandbox):
    connection = salesforce(organization, on_sandbox, enforce_api_limits=True, daily_api_calls=2)
    first, second = provider_session(connection), provider_session(connection)
    describe_global(first)
    describe_global(second)
    for session in (first, second):
        with pytest.raises(CallCapReached):
            session.http.get("sobjects")
    assert usage.calls_by_day(connection.pk, days=1)[0]["calls"] == 2


def test_calls_are_counted_without_a_cap_by_hour_and_day(organization, on_sandbox):
    connection = salesforce(organization, on_sandbox, daily_api_calls=1)  # a cap shown, not enforced
    clock = OffsetClock()
    session = provider_session(connection, clock=clock)
    for _ in range(3):
        describe_global(session)
    assert usage.calls_last_24_hours(connection.pk, clock) == 3
    first_day = f"{clock.now():%Y-%m-%d}"

    clock.advance(25 * 3600)
    describe_global(session)
    assert usage.calls_last_24_hours(connection.pk, clock) == 1
    report = usage.usage(connection, clock)
    assert report["calls_last_24_hours"] == 1
    calls = {day["day"]: day["calls"] for day in report["by_day"]}
    assert (calls[f"{clock.now():%Y-%m-%d}"], calls[first_day], sum(calls.values())) == (1, 3, 4)
    assert (report["daily_api_calls"], report["enforced"], report["remaining_today"]) == (1, False, None)


def test_usage_reports_what_is_left_of_an_enforced_cap(organization, on_sandbox):
    connection = salesforce(organization, on_sandbox, enforce_api_limits=True, daily_api_calls=5)
    describe_global(provider_session(connection))
    report = usage.usage(connection)
    assert (report["enforced"], report["remaining_today"], report["by_day"][0]["calls"]) == (True, 4, 1)


def test_a_shared_copy_spends_its_parents_daily_cap(organization, on_sandbox):
    parent = salesforce(organization, on_sandbox, enforce_api_limits=True, daily_api_calls=2)
    other = sign_up("child@example.com", "correct-horse-battery", "Globex").memberships.get().organization
    copy = sharing.share(parent, other, "Salesforce from Acme")
    describe_global(provider_session(parent))
    describe_global(provider_session(copy))
    with pytest.raises(CallCapReached):
        provider_session(copy).http.get("sobjects")
    assert usage.usage(copy)["remaining_today"] == usage.usage(parent)["remaining_today"] == 0
