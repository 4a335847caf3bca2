"""Seed 002's enforce_api_limits end to end: a worker's run on a Salesforce connection whose
daily_api_calls is below what the run needs stops with the reason, and no call goes over."""

import pytest

from console.connections import usage
from tests.sandbox.connections import sandbox_connection

from .conftest import clear_requests, requests_since_clear

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def data_api_calls(inspector) -> int:
    """Requests the sandbox's Salesforce data API received since the last clear (token calls aside)."""
    rules = requests_since_clear(inspector)["rules"]
    return sum(n for rule, n in rules.items() if "/salesforce/services/data/" in rule)


def contacts_sync(public_api, model, connection) -> str:
    return public_api.create_sync({
        "name": f"Contacts to {connection.name}", "mode": "updateOrCreate",
        "identity": {"source": {"field": "email", "model_id": str(model.pk)}, "target": "Email",
                     "function": "equality"},
        "fields": [{"source": {"field": "first_name", "model_id": str(model.pk)}, "target": "FirstName"},
                   {"source": {"field": "last_name", "model_id": str(model.pk)}, "target": "LastName"}],
        "schedule": {"frequency": "manual"},
        "target": {"connection_id": str(connection.pk), "object": "Contact",
                   "configuration": {"ingestion_api": "rest", "rest_batch_size": 5}},
    })["id"]


def test_a_run_that_needs_more_than_the_daily_cap_stops_before_it(e2e, sandbox, organization, connection_of,
                                                                   model_of, warehouse, public_api):
    table = warehouse.copy("salesforce_contacts")
    model = model_of(connection_of("snowflake"), f"SELECT email, first_name, last_name FROM {table}",
                     ["email", "first_name", "last_name"])

    free = sandbox_connection(organization, "salesforce", sandbox=sandbox, name="Uncapped")
    clear_requests(e2e)
    measured = public_api.run(contacts_sync(public_api, model, free))
    assert measured["status"] == "completed", measured
    needed = data_api_calls(e2e)
    assert needed == usage.calls_last_24_hours(free.pk) and needed >= 6

    cap = needed // 2
    capped = sandbox_connection(organization, "salesforce", {"enforce_api_limits": True, "daily_api_calls": cap},
                                sandbox=sandbox, name="Capped")
    clear_requests(e2e)
    run = public_api.run(contacts_sync(public_api, model, capped))
    assert run["status"] == "failed", run
    assert any(f"daily cap of {cap} API calls (daily_api_calls) is spent for today" in error
               for error in run["errors"]), run
    assert data_api_calls(e2e) == cap  # the cap spent, and not one call past it
    assert usage.calls_by_day(capped.pk, days=1)[0]["calls"] == cap
