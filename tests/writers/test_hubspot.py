"""HubSpot writers against the sandbox over HTTP."""

from datetime import date, datetime, timezone

import pytest

from integrations.base import ConnectorError

from .conftest import record


def contacts(inspector) -> dict:
    return {d["properties"].get("email"): d for d in inspector.docs("hubspot", "contacts")}


def companies(inspector) -> dict:
    return {d["properties"].get("domain"): d for d in inspector.docs("hubspot", "companies")}


def test_contacts_upsert_by_email_creates_and_updates_in_one_call(writer_for, inspector):
    writer = writer_for("hubspot", "contacts", identity_field="email")
    assert writer.batch_size == 100
    outcomes = writer.write([
        record("ada@lovelace.example", firstname="Augusta", lifecyclestage="customer"),
        record("new@example.com", firstname="New", lastname="Person",
               date_of_birth=date(1990, 5, 17), annualrevenue=1200),
    ])
    assert [(o.ok, o.action) for o in outcomes] == [(True, "updated"), (True, "inserted")]
    stored = contacts(inspector)
    assert outcomes[0].target_id == str(stored["ada@lovelace.example"]["id"])
    assert stored["ada@lovelace.example"]["properties"]["firstname"] == "Augusta"
    assert stored["new@example.com"]["properties"]["date_of_birth"] == "1990-05-17"
    assert stored["new@example.com"]["properties"]["annualrevenue"] == "1200"
    upserts = inspector.requests()["rules"]
    assert upserts.get("POST /hubspot/crm/v3/objects/<object>/batch/upsert") == 1


def test_refused_records_carry_hubspots_message_and_the_rest_go_through(writer_for, inspector):
    writer = writer_for("hubspot", "contacts", identity_field="email")
    outcomes = writer.write([
        record("one@example.com", firstname="One"),
        record("two@example.com", lifecyclestage="royalty"),
        record("not-an-email", firstname="Three"),
        record("four@example.com", favourite_colour="blue"),
    ])
    assert [o.ok for o in outcomes] == [True, False, False, False]
    assert "royalty was not one of the allowed options" in outcomes[1].error
    assert "Email address not-an-email is invalid" in outcomes[2].error
    assert 'Property "favourite_colour" does not exist' in outcomes[3].error
    assert outcomes[1].payload["properties"] == {"lifecyclestage": "royalty"}
    assert set(contacts(inspector)) == {"ada@lovelace.example", "grace@hopper.example", "one@example.com"}


def test_create_mode_leaves_existing_contacts_alone(writer_for, inspector):
    writer = writer_for("hubspot", "contacts", mode="create", identity_field="email")
    outcomes = writer.write([record("ada@lovelace.example", firstname="Changed"),
                             record("fresh@example.com", firstname="Fresh",
                                    last_seen=None)])
    assert not outcomes[1].ok  # last_seen is no HubSpot property
    outcomes = writer.write([record("ada@lovelace.example", firstname="Changed"),
                             record("fresh@example.com", firstname="Fresh")])
    assert [(o.ok, o.action) for o in outcomes] == [(True, "unchanged"), (True, "inserted")]
    stored = contacts(inspector)
    assert stored["ada@lovelace.example"]["properties"]["firstname"] == "Ada"
    assert stored["fresh@example.com"]["properties"]["firstname"] == "Fresh"


def test_update_mode_never_creates(writer_for, inspector):
    writer = writer_for("hubspot", "contacts", mode="update", identity_field="email")
    outcomes = writer.write([record("grace@hopper.example", jobtitle="Rear Admiral"),
                             record("ghost@example.com", jobtitle="Nobody")])
    assert outcomes[0].ok and outcomes[0].action == "updated"
    assert not outcomes[1].ok and "update mode creates nothing" in outcomes[1].error
    stored = contacts(inspector)
    assert stored["grace@hopper.example"]["properties"]["jobtitle"] == "Rear Admiral"
    assert "ghost@example.com" not in stored


def test_companies_by_domain_update_found_ones_and_create_the_rest(writer_for, inspector):
    writer = writer_for("hubspot", "companies", identity_field="domain")
    outcomes = writer.write([
        record("HOPPER.example", name="Hopper Compilers Ltd", numberofemployees=42),
        record("newco.example", name="NewCo", industry="RETAIL"),
        record("badco.example", name="BadCo", numberofemployees="lots"),
    ])
    assert [(o.ok, o.action) for o in outcomes[:2]] == [(True, "updated"), (True, "inserted")]
    assert not outcomes[2].ok and "lots is not a valid number" in outcomes[2].error
    stored = companies(inspector)
    assert stored["hopper.example"]["properties"]["name"] == "Hopper Compilers Ltd"
    assert stored["newco.example"]["properties"]["industry"] == "RETAIL"
    assert outcomes[1].target_id == str(stored["newco.example"]["id"])
    assert len(stored) == 3  # Lovelace, Hopper, NewCo: nothing duplicated


def test_companies_by_record_id(writer_for, inspector):
    hopper = companies(inspector)["hopper.example"]
    writer = writer_for("hubspot", "companies", mode="update", identity_field="hs_object_id")
    outcomes = writer.write([record(str(hopper["id"]), hs_object_id=str(hopper["id"]), city="Arlington"),
                             record("987654", hs_object_id="987654", city="Nowhere")])
    assert outcomes[0].ok and outcomes[0].target_id == str(hopper["id"])
    assert not outcomes[1].ok
    assert companies(inspector)["hopper.example"]["properties"]["city"] == "Arlington"


def test_datetime_values_and_blank_values(writer_for, inspector):
    writer = writer_for("hubspot", "contacts", identity_field="email")
    writer.write([record("ada@lovelace.example", date_of_birth=datetime(1815, 12, 10, tzinfo=timezone.utc),
                         lastname=None)])
    stored = contacts(inspector)["ada@lovelace.example"]["properties"]
    assert stored["date_of_birth"] == "1815-12-10"
    assert "lastname" not in stored  # None clears the value


def test_a_refused_batch_fails_every_record_with_the_message(writer_for, inspector):
    writer = writer_for("hubspot", "contacts", identity_field="email")
    outcomes = writer.write([record("same@example.com", firstname="A"), record("SAME@example.com", firstname="B")])
    assert [o.ok for o in outcomes] == [False, False]
    assert "Duplicate IDs" in outcomes[0].error


def test_list_membership_add_and_remove(writer_for, inspector):
    lists = {d["name"]: d for d in inspector.docs("hubspot", "lists")}
    list_id = lists["Newsletter subscribers"]["id"]
    adder = writer_for("hubspot", f"list:{list_id}", mode="create", identity_field="email")
    outcomes = adder.write([record("ada@lovelace.example"), record("nobody@example.com")])
    assert outcomes[0].ok and outcomes[0].action == "inserted"
    assert not outcomes[1].ok and "No HubSpot contact has email nobody@example.com" in outcomes[1].error
    [again] = adder.write([record("ada@lovelace.example")])
    assert again.ok and again.action == "unchanged"
    members = inspector.docs("hubspot", "list_members")
    assert [m["recordId"] for m in members] == [outcomes[0].target_id]

    remover = writer_for("hubspot", f"list:{list_id}", mode="remove", identity_field="email")
    [gone] = remover.remove([record("ada@lovelace.example")])
    assert gone.ok and gone.action == "removed"
    assert inspector.docs("hubspot", "list_members") == []


def test_upsert_on_a_unique_custom_property(writer_for, inspector):
    writer = writer_for("hubspot", "companies", identity_field="external_id")
    outcomes = writer.write([record("acct-1", name="Acme"), record("acct-2", name="Globex")])
    assert [(o.ok, o.action) for o in outcomes] == [(True, "inserted"), (True, "inserted")]
    [again] = writer.write([record("acct-1", name="Acme Corp")])
    assert again.ok and again.action == "updated" and again.target_id == outcomes[0].target_id
    names = {d["properties"].get("external_id"): d["properties"]["name"] for d in inspector.docs("hubspot", "companies")}
    assert names["acct-1"] == "Acme Corp" and names["acct-2"] == "Globex"


def test_429s_and_5xx_are_waited_out_by_the_retrying_transport(sandbox, inspector):
    import httpx

    from integrations.base import ProviderSession, WriteSpec
    from integrations.http import RetryingTransport
    from integrations.hubspot.writer import make_writer

    inspector.faults(burst_429=1, retry_after=1, path="/hubspot/crm/v3/objects/contacts/batch/upsert")
    http = httpx.Client(base_url=f"{sandbox.url}/hubspot", headers={"Authorization": "Bearer sandbox-api-key"},
                        transport=RetryingTransport(None, backoff=0.01, max_rate_wait=5))
    writer = make_writer(ProviderSession(config={}, http=http), WriteSpec("contacts", "updateOrCreate", "email"))
    [outcome] = writer.write([record("patient@example.com", firstname="Patient")])
    assert outcome.ok and outcome.action == "inserted"
    inspector.faults(burst_429=0, error_rate=1.0, statuses=[503])
    with pytest.raises(ConnectorError):  # retries exhausted: the batch fails, the engine records it
        writer.write([record("later@example.com", firstname="Later")])
    http.close()
    log = httpx.get(f"{sandbox.url}/_sandbox/requests", params={"log": 1}).json()["log"]
    upserts = [r for r in log if r["rule"].endswith("batch/upsert")]
    assert [r["status"] for r in upserts[:2]] == [429, 200]
    assert "later@example.com" not in contacts(inspector)
