"""Salesloft writers against the sandbox: cadences, people, accounts."""

import pytest

from integrations.base import ConnectorError
from integrations.writers import make_writer

from .conftest import record

CADENCE = "cadence:11"


def people_by_email(inspector):
    return {p["email_address"].lower(): p for p in inspector.docs("salesloft", "people")}


def memberships(inspector, cadence_id=11):
    return [m for m in inspector.docs("salesloft", "cadence_memberships")
            if m["cadence_id"] == cadence_id and m["currently_on_cadence"]]


def test_cadence_creates_the_absent_updates_the_present_and_enrolls_both(writer_for, inspector):
    [existing] = inspector.seed("salesloft", "people", [
        {"email_address": "Kim@Example.com", "first_name": "Kimberly", "last_name": "Old"}])
    writer = writer_for("salesloft", CADENCE, identity_field="Email")
    outcomes = writer.write([
        record("kim@example.com", Email="kim@example.com", FirstName="Kim", LastName="Lee"),
        record("new@example.com", Email="new@example.com", FirstName="Neo", LastName="Nu"),
    ])
    assert [(o.ok, o.action) for o in outcomes] == [(True, "updated"), (True, "inserted")]
    people = people_by_email(inspector)
    assert len(people) == 2
    assert people["kim@example.com"]["first_name"] == "Kim" and people["kim@example.com"]["last_name"] == "Lee"
    assert people["kim@example.com"]["id"] == existing["id"]
    assert outcomes[0].target_id == str(existing["id"])
    assert outcomes[1].target_id == str(people["new@example.com"]["id"])
    enrolled = {m["person_id"] for m in memberships(inspector)}
    assert enrolled == {existing["id"], people["new@example.com"]["id"]}


def test_cadence_write_again_duplicates_nothing(writer_for, inspector):
    writer = writer_for("salesloft", CADENCE, identity_field="Email")
    batch = [record("a@example.com", Email="a@example.com", FirstName="A")]
    writer.write(batch)
    again = writer.write(batch)  # e.g. a run resumed after its worker died
    assert again[0].ok and again[0].action == "updated"
    assert len(inspector.docs("salesloft", "people")) == 1
    assert len(memberships(inspector)) == 1


def test_cadence_rejections_carry_salesloft_messages(writer_for, inspector):
    inspector.seed("salesloft", "people", [{"email_address": "dnc@example.com", "do_not_contact": True}])
    writer = writer_for("salesloft", CADENCE, identity_field="Email")
    outcomes = writer.write([
        record("not-an-email", Email="not-an-email", FirstName="X"),
        record("dnc@example.com", Email="dnc@example.com"),
        record("ok@example.com", Email="ok@example.com"),
    ])
    assert not outcomes[0].ok and outcomes[0].error == "email_address is invalid"
    assert not outcomes[1].ok and "person is marked do not contact" in outcomes[1].error
    assert outcomes[2].ok
    assert [m["person_id"] for m in memberships(inspector)] == [int(outcomes[2].target_id)]


def test_cadence_update_mode_never_creates(writer_for, inspector):
    writer = writer_for("salesloft", CADENCE, mode="update", identity_field="Email")
    [outcome] = writer.write([record("ghost@example.com", Email="ghost@example.com")])
    assert not outcome.ok and "only updates existing" in outcome.error
    assert inspector.docs("salesloft", "people") == []


def test_cadence_remove_takes_people_off(writer_for, inspector):
    writer = writer_for("salesloft", CADENCE, identity_field="Email")
    writer.write([record("a@example.com", Email="a@example.com"), record("b@example.com", Email="b@example.com")])
    remover = writer_for("salesloft", CADENCE, mode="remove", identity_field="Email")
    outcomes = remover.remove([record("a@example.com", Email="a@example.com"),
                               record("nobody@example.com", Email="nobody@example.com")])
    assert [(o.ok, o.action) for o in outcomes] == [(True, "removed"), (True, "removed")]
    left = memberships(inspector)
    assert [m["person_id"] for m in left] == [people_by_email(inspector)["b@example.com"]["id"]]


def test_people_upsert_and_custom_fields(writer_for, inspector):
    inspector.seed("salesloft", "people", [{"email_address": "old@example.com", "title": "Old"}])
    writer = writer_for("salesloft", "people", identity_field="Email")
    outcomes = writer.write([
        record("old@example.com", Email="old@example.com", Title="CTO", **{"custom:Plan": "gold"}),
        record("fresh@example.com", Email="fresh@example.com", LastName="Fresh"),
    ])
    assert [o.action for o in outcomes] == ["updated", "inserted"]
    people = people_by_email(inspector)
    assert people["old@example.com"]["title"] == "CTO"
    assert people["old@example.com"]["custom_fields"] == {"Plan": "gold"}


def test_people_create_mode_leaves_existing_alone(writer_for, inspector):
    inspector.seed("salesloft", "people", [{"email_address": "old@example.com", "title": "Old"}])
    writer = writer_for("salesloft", "people", mode="create", identity_field="Email")
    outcomes = writer.write([record("old@example.com", Email="old@example.com", Title="New"),
                             record("n@example.com", Email="n@example.com")])
    assert [o.action for o in outcomes] == ["unchanged", "inserted"]
    assert people_by_email(inspector)["old@example.com"]["title"] == "Old"


def test_accounts_upsert_by_domain(writer_for, inspector):
    inspector.seed("salesloft", "accounts", [{"name": "Acme", "domain": "acme.example"}])
    writer = writer_for("salesloft", "accounts", identity_field="Domain")
    outcomes = writer.write([
        record("https://ACME.example/", Domain="https://ACME.example/", Name="Acme Corp"),
        record("globex.example", Domain="globex.example", Name="Globex"),
        record("noname.example", Domain="noname.example", Name=""),
    ])
    assert [(o.ok, o.action) for o in outcomes[:2]] == [(True, "updated"), (True, "inserted")]
    assert not outcomes[2].ok and outcomes[2].error == "name can't be blank"
    accounts = {a["domain"]: a for a in inspector.docs("salesloft", "accounts")}
    assert set(accounts) == {"acme.example", "globex.example"}
    assert accounts["acme.example"]["name"] == "Acme Corp"


def test_accounts_update_mode_finds_by_domain(writer_for, inspector):
    inspector.seed("salesloft", "accounts", [{"name": "Acme", "domain": "acme.example"}])
    writer = writer_for("salesloft", "accounts", mode="update", identity_field="Domain")
    outcomes = writer.write([record("acme.example", Domain="acme.example", Industry="Rockets"),
                             record("none.example", Domain="none.example", Name="None")])
    assert outcomes[0].ok and outcomes[0].action == "updated"
    assert not outcomes[1].ok
    assert [a["industry"] for a in inspector.docs("salesloft", "accounts")] == ["Rockets"]


def test_unknown_objects_and_types_are_connector_errors(writer_for, session_for):
    with pytest.raises(ConnectorError, match="no target object"):
        writer_for("salesloft", "opportunities")
    with pytest.raises(ConnectorError, match="cannot be written"):
        make_writer("snowflake", session_for("salesloft"), None)
