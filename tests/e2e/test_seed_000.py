"""Seed 000 end to end: Snowflake users into a Salesloft cadence, through the API and a real worker."""

import pytest

from .conftest import clear_requests, requests_since_clear

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SEED_000_QUERY = ("SELECT MAX(last_activity_date) AS last_activity_date, plan, first_name, last_name, email "
                  "FROM {table} GROUP BY plan, first_name, last_name, email")
CADENCE = 10


def seed_000_sync(model, connection, cadence=f"cadence:{CADENCE}"):
    """Step 6 of seed 000, with this test's ids."""
    def source(field):
        return {"field": field, "model_id": str(model.pk)}

    return {
        "name": "Snowflake to Salesloft Cadence Sync",
        "mode": "updateOrCreate",
        "identity": {"source": source("email"), "target": "Email", "function": "equality"},
        "fields": [{"source": source("first_name"), "target": "FirstName"},
                   {"source": source("last_name"), "target": "LastName"}],
        "schedule": {"frequency": "manual"},
        "target": {"connection_id": str(connection.pk), "object": cadence},
    }


@pytest.fixture
def cadence_sync(connection_of, model_of, warehouse, public_api):
    """(sync id, warehouse table): seed 000's sync over a fresh copy of `rows` demo users."""

    def make(rows=12):
        table = warehouse.copy("users", rows)
        model = model_of(connection_of("snowflake"), SEED_000_QUERY.format(table=table),
                         ["last_activity_date", "plan", "first_name", "last_name", "email"])
        sync = public_api.create_sync(seed_000_sync(model, connection_of("salesloft")))
        return sync["id"], table

    return make


def people(inspector) -> dict:
    return {p["email_address"].lower(): p for p in inspector.docs("salesloft", "people")}


def enrolled(inspector, cadence=CADENCE) -> list[int]:
    return sorted(m["person_id"] for m in inspector.docs("salesloft", "cadence_memberships")
                  if m["cadence_id"] == cadence and m["currently_on_cadence"])


def writes(report) -> dict:
    """Salesloft write requests by rule, from the sandbox's request counter."""
    return {rule: n for rule, n in report["rules"].items()
            if rule.split()[0] in ("POST", "PUT", "DELETE") and "/salesloft/" in rule}


def test_people_created_or_updated_and_enrolled_then_nothing_then_only_changes(
        e2e, cadence_sync, warehouse, public_api):
    sync_id, table = cadence_sync(12)
    rows = warehouse.execute(f"SELECT email, first_name, last_name FROM {table} ORDER BY email")
    present_email = rows[0][0]
    [present] = e2e.seed("salesloft", "people", [
        {"email_address": present_email.upper(), "first_name": "Someone", "last_name": "Else", "title": "Kept"}])

    first = public_api.run(sync_id)
    assert first["status"] == "completed", first
    assert first["counts"]["queried"] == 12
    assert (first["counts"]["inserted"], first["counts"]["updated"], first["counts"]["error"]) == (11, 1, 0)
    found = people(e2e)
    assert set(found) == {email.lower() for email, _, _ in rows}
    for email, first_name, last_name in rows:
        assert (found[email.lower()]["first_name"], found[email.lower()]["last_name"]) == (first_name, last_name)
    assert found[present_email.lower()]["id"] == present["id"]  # updated in place, not duplicated
    assert found[present_email.lower()]["title"] == "Kept"  # unmapped fields left alone
    assert enrolled(e2e) == sorted(p["id"] for p in found.values())

    clear_requests(e2e)
    second = public_api.run(sync_id)
    assert second["status"] == "completed"
    assert second["counts"]["unchanged"] == 12
    assert second["counts"]["upserts"] == 0
    assert requests_since_clear(e2e)["providers"].get("salesloft", 0) == 0  # nothing sent at all

    changed = [rows[3][0], rows[7][0]]
    warehouse.execute(f"UPDATE {table} SET last_name = 'Changed' WHERE email IN ('{changed[0]}', '{changed[1]}')")
    clear_requests(e2e)
    third = public_api.run(sync_id)
    assert (third["counts"]["updated"], third["counts"]["unchanged"], third["counts"]["inserted"]) == (2, 10, 0)
    report = requests_since_clear(e2e)
    assert writes(report) == {"PUT /salesloft/v2/people/<int:id>.json": 2,
                              "POST /salesloft/v2/cadence_memberships.json": 2}
    updated_paths = sorted(entry["path"] for entry in report["log"] if entry["method"] == "PUT")
    assert updated_paths == sorted(f"/salesloft/v2/people/{people(e2e)[e.lower()]['id']}.json" for e in changed)
    assert {people(e2e)[e.lower()]["last_name"] for e in changed} == {"Changed"}
    assert len(people(e2e)) == 12 and len(enrolled(e2e)) == 12


def test_a_rejected_record_shows_salesloft_message_and_is_retried_next_run(
        e2e, cadence_sync, warehouse, public_api):
    sync_id, table = cadence_sync(6)
    email = warehouse.execute(f"SELECT email FROM {table} ORDER BY email LIMIT 1")[0][0]
    [blocked] = e2e.seed("salesloft", "people", [{"email_address": email, "do_not_contact": True}])

    first = public_api.run(sync_id)
    assert first["status"] == "completed"
    assert first["counts"]["errored"] == 1 and first["counts"]["inserted"] == 5
    [error] = public_api.record_errors(sync_id, first["id"])
    assert error["identity"] == email and error["kind"] == "rejected"
    assert error["message"] == "The person was saved but not added to the cadence: person is marked do not contact"
    assert blocked["id"] not in enrolled(e2e)

    e2e.seed("salesloft", "people", [{**blocked, "do_not_contact": False}])  # fixed on the Salesloft side
    clear_requests(e2e)
    second = public_api.run(sync_id)
    assert (second["counts"]["updated"], second["counts"]["unchanged"], second["counts"]["errored"]) == (1, 5, 0)
    assert public_api.record_errors(sync_id, second["id"]) == []
    assert blocked["id"] in enrolled(e2e)
    assert writes(requests_since_clear(e2e)) == {"PUT /salesloft/v2/people/<int:id>.json": 1,
                                                 "POST /salesloft/v2/cadence_memberships.json": 1}


def test_429s_are_waited_out_not_failures(e2e, cadence_sync, public_api):
    sync_id, _ = cadence_sync(5)
    e2e.faults(burst_429=3, retry_after=1, path="/salesloft/v2/")
    clear_requests(e2e)
    run = public_api.run(sync_id)
    assert run["status"] == "completed", run
    assert (run["counts"]["inserted"], run["counts"]["errored"]) == (5, 0)
    assert len(people(e2e)) == 5 and len(enrolled(e2e)) == 5
    # The first lookup met three 429s in a row and was sent a fourth time.
    assert requests_since_clear(e2e)["rules"]["GET /salesloft/v2/people.json"] == 4
