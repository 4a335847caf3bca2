"""The Salesforce writer against the sandbox over HTTP: sObject collections, Bulk API 2.0,
upserts on an External ID, Lead-or-Contact, and seed 002's target configuration."""

import pytest

from integrations.base import ConnectionFailed, ConnectorError, OutgoingRecord
from integrations.connection_types import BearerAuth

from .conftest import record


@pytest.fixture
def sf(inspector):
    inspector.settings(salesforce_bulk_seconds=0)
    return inspector


def contacts(inspector) -> dict:
    return {(d.get("Email") or d["Id"]).lower(): d for d in inspector.docs("salesforce", "Contact")
            if not d["IsDeleted"]}


def leads(inspector) -> dict:
    return {d["Email"].lower(): d for d in inspector.docs("salesforce", "Lead") if d.get("Email")}


def calls(inspector, rule) -> int:
    return inspector.requests()["rules"].get(rule, 0)


REST = {"ingestion_api": "rest"}
BULK = {"ingestion_api": "bulk"}
COLLECTIONS = "/salesforce/services/data/v<version>/composite/sobjects"


@pytest.mark.parametrize("configuration", [REST, BULK], ids=["rest", "bulk"])
def test_update_or_create_on_email_updates_the_present_and_creates_the_absent(writer_for, sf, configuration):
    writer = writer_for("salesforce", "Contact", identity_field="Email", configuration=configuration)
    outcomes = writer.write([
        record("ADA@acme.example", Email="ADA@acme.example", Title="Analyst"),
        record("new@example.com", Email="new@example.com", LastName="Newman", FirstName="Nia"),
    ])
    assert [(o.ok, o.action) for o in outcomes] == [(True, "updated"), (True, "inserted")], outcomes
    held = contacts(sf)
    assert held["ada@acme.example"]["Title"] == "Analyst" and held["ada@acme.example"]["LastName"] == "Lovelace"
    assert outcomes[0].target_id == held["ada@acme.example"]["Id"]
    assert outcomes[1].target_id == held["new@example.com"]["Id"] and held["new@example.com"]["Name"] == "Nia Newman"


@pytest.mark.parametrize("configuration", [REST, BULK], ids=["rest", "bulk"])
def test_refused_records_carry_salesforces_message(writer_for, sf, configuration):
    writer = writer_for("salesforce", "Contact", identity_field="Email", configuration=configuration)
    outcomes = writer.write([
        record("nolast@example.com", Email="nolast@example.com", FirstName="No"),
        record("fine@example.com", Email="fine@example.com", LastName="Fine"),
        record("ada@acme.example", Email="ada@acme.example", Title="x" * 200),
    ])
    assert not outcomes[0].ok
    assert outcomes[0].error == "REQUIRED_FIELD_MISSING: Required fields are missing: [LastName]"
    assert outcomes[0].payload["Email"] == "nolast@example.com"
    assert outcomes[1].ok and outcomes[1].action == "inserted"
    assert not outcomes[2].ok and outcomes[2].error.startswith("STRING_TOO_LONG: Title: data value too large")


def test_upsert_on_an_external_id_sends_one_call_per_batch(writer_for, sf):
    writer = writer_for("salesforce", "Contact", identity_field="External_Id__c", configuration=REST)
    batch = [record(f"EXT-{i}", External_Id__c=f"EXT-{i}", LastName=f"Person {i}") for i in range(150)]
    httpx_rule = f"PATCH {COLLECTIONS}/<name>/<field>"
    first = writer.write(batch)
    assert {o.action for o in first} == {"inserted"} and all(o.target_id for o in first)
    again = writer.write([record("EXT-1", External_Id__c="EXT-1", LastName="Renamed")])
    assert again[0].action == "updated" and again[0].target_id == first[1].target_id
    assert calls(sf, httpx_rule) == 2
    assert contacts(sf)[first[1].target_id.lower()]["LastName"] == "Renamed"


def test_bulk_upsert_in_jobs_of_bulk_batch_size(writer_for, sf):
    writer = writer_for("salesforce", "Contact", identity_field="External_Id__c",
                        configuration={"ingestion_api": "bulk", "bulk_batch_size": 100})
    assert writer.batch_size == 100
    batch = [record(f"B-{i}", External_Id__c=f"B-{i}", LastName=f"Bulk {i}", Email=f"b{i}@example.com")
             for i in range(100)]
    batch[7] = record("B-7", External_Id__c="B-7", LastName="Broken", Email="not-an-email")
    outcomes = writer.write(batch)
    assert sum(o.ok for o in outcomes) == 99
    assert outcomes[7].error == "INVALID_EMAIL_ADDRESS: Email: invalid email address: not-an-email"
    assert calls(sf, "POST /salesforce/services/data/v<version>/jobs/ingest") == 1
    second = writer.write(batch[:3])
    assert [o.action for o in second] == ["updated"] * 3
    assert [o.target_id for o in second] == [o.target_id for o in outcomes[:3]]


def test_lead_or_contact_matches_contacts_then_leads_and_creates_leads(writer_for, sf):
    writer = writer_for("salesforce", "multi:leadOrContact", identity_field="Email",
                        configuration={"ingestion_api": "rest", "create_records_as": "Lead"})
    outcomes = writer.write([
        record("grace@globex.example", Email="grace@globex.example", Title="Rear Admiral", Company="Navy"),
        record("linus@kernel.example", Email="linus@kernel.example", Title="Maintainer"),
        record("fresh@example.com", Email="fresh@example.com", LastName="Fresh", Company="Fresh Co"),
        record("dennis@bell.example", Email="dennis@bell.example", LastName="Ritchie", Company="Bell Labs"),
    ])
    assert [(o.ok, o.action) for o in outcomes] == [(True, "updated"), (True, "updated"), (True, "inserted"),
                                                    (True, "inserted")], outcomes
    assert contacts(sf)["grace@globex.example"]["Title"] == "Rear Admiral"  # Company is Lead-only: left out
    held = leads(sf)
    assert held["linus@kernel.example"]["Title"] == "Maintainer"
    assert outcomes[2].target_id.startswith("00Q") and held["fresh@example.com"]["Company"] == "Fresh Co"
    # the converted Lead is never written; a new one is made for its email
    dennis = [d for d in sf.docs("salesforce", "Lead") if d.get("Email") == "dennis@bell.example"]
    assert {(d["Id"] == outcomes[3].target_id, d["IsConverted"]) for d in dennis} == {(False, True), (True, False)}


def test_lead_or_contact_creates_contacts_when_they_have_an_account(writer_for, sf):
    account = sf.docs("salesforce", "Account")[0]["Id"]
    writer = writer_for("salesforce", "multi:leadOrContact", identity_field="Email",
                        configuration={"ingestion_api": "bulk", "create_records_as": "ContactIfAccountId"})
    outcomes = writer.write([
        record("with@example.com", Email="with@example.com", LastName="With", AccountId=account, Company="X"),
        record("without@example.com", Email="without@example.com", LastName="Without", Company="Y"),
    ])
    assert [o.target_id[:3] for o in outcomes] == ["003", "00Q"]
    assert contacts(sf)["with@example.com"]["AccountId"] == account


def test_insert_null_values(writer_for, sf):
    keep = writer_for("salesforce", "Contact", identity_field="Email", configuration=REST)
    keep.write([record("ada@acme.example", Email="ada@acme.example", Title="Countess")])
    keep.write([record("ada@acme.example", Email="ada@acme.example", Title=None)])
    assert contacts(sf)["ada@acme.example"]["Title"] == "Countess"
    for configuration in ({**REST, "insert_null_values": True}, {**BULK, "insert_null_values": True}):
        keep.write([record("ada@acme.example", Email="ada@acme.example", Title="Countess")])
        blank = writer_for("salesforce", "Contact", identity_field="Email", configuration=configuration)
        assert blank.write([record("ada@acme.example", Email="ada@acme.example", Title=None)])[0].ok
        assert contacts(sf)["ada@acme.example"]["Title"] is None


def test_create_and_update_modes(writer_for, sf):
    create = writer_for("salesforce", "Contact", mode="create", identity_field="Email", configuration=REST)
    made = create.write([record("ada@acme.example", Email="ada@acme.example", Title="Ignored"),
                         record("c@example.com", Email="c@example.com", LastName="Cee")])
    assert [(o.ok, o.action) for o in made] == [(True, "unchanged"), (True, "inserted")]
    assert contacts(sf)["ada@acme.example"].get("Title") is None
    update = writer_for("salesforce", "Contact", mode="update", identity_field="External_Id__c", configuration=REST)
    updated = update.write([record("NOPE", External_Id__c="NOPE", LastName="Nobody")])
    assert not updated[0].ok and "only updates existing records" in updated[0].error
    by_id = writer_for("salesforce", "Contact", mode="update", identity_field="Id", configuration=REST)
    target = made[1].target_id
    assert by_id.write([record(target, Id=target, Title="By id")])[0].action == "updated"
    assert contacts(sf)["c@example.com"]["Title"] == "By id"


def test_only_sync_different_skips_what_salesforce_already_holds(writer_for, sf):
    writer = writer_for("salesforce", "Contact", identity_field="External_Id__c",
                        configuration={**REST, "only_sync_different": True})
    first = writer.write([record("D-1", External_Id__c="D-1", LastName="Same", Department=None)])
    assert first[0].action == "inserted"
    before = calls(sf, f"PATCH {COLLECTIONS}")
    again = writer.write([record("D-1", External_Id__c="D-1", LastName="Same")])
    assert again[0].action == "unchanged" and calls(sf, f"PATCH {COLLECTIONS}") == before
    changed = writer.write([record("D-1", External_Id__c="D-1", LastName="Other")])
    assert changed[0].action == "updated"


def test_invalid_relationships(writer_for, sf):
    account = sf.docs("salesforce", "Account")[0]["Id"]
    batch = [record("r1@example.com", Email="r1@example.com", LastName="One", AccountId="001000000000000AAA"),
             record("r2@example.com", Email="r2@example.com", LastName="Two", AccountId=account)]
    omit_records = writer_for("salesforce", "Contact", identity_field="Email",
                              configuration={**REST, "invalid_relationships": "omit_records"})
    outcomes = omit_records.write(batch)
    assert not outcomes[0].ok and "AccountId" in outcomes[0].error and outcomes[1].ok
    omit_values = writer_for("salesforce", "Contact", identity_field="Email",
                             configuration={**REST, "invalid_relationships": "omit_values"})
    assert omit_values.write(batch)[0].ok
    assert contacts(sf)["r1@example.com"].get("AccountId") is None
    as_error = writer_for("salesforce", "Contact", identity_field="Email", configuration=REST)
    refused = as_error.write([record("r3@example.com", Email="r3@example.com", LastName="Three",
                                     AccountId="001000000000000AAA")])
    assert refused[0].error.startswith("INVALID_CROSS_REFERENCE_KEY")


@pytest.mark.parametrize("configuration", [REST, BULK], ids=["rest", "bulk"])
def test_remove_by_target_id_and_by_identity(writer_for, sf, configuration):
    made = writer_for("salesforce", "Contact", identity_field="Email", configuration=REST).write(
        [record("gone1@example.com", Email="gone1@example.com", LastName="G1"),
         record("gone2@example.com", Email="gone2@example.com", LastName="G2")])
    remover = writer_for("salesforce", "Contact", mode="remove", identity_field="Email", configuration=configuration)
    removed = remover.remove([
        OutgoingRecord(identity="gone1@example.com", fields={}, target_id=made[0].target_id),
        OutgoingRecord(identity="gone2@example.com", fields={}),
        OutgoingRecord(identity="never@example.com", fields={}),
    ])
    assert [(o.ok, o.action) for o in removed] == [(True, "removed")] * 3
    held = contacts(sf)
    assert "gone1@example.com" not in held and "gone2@example.com" not in held
    again = remover.remove([OutgoingRecord(identity="gone1@example.com", fields={}, target_id=made[0].target_id)])
    assert again[0].ok


def test_batch_sizes_and_automatic_choice(writer_for, sf):
    rest = writer_for("salesforce", "Contact", identity_field="Email",
                      configuration={"ingestion_api": "rest", "rest_batch_size": 100})
    assert rest.batch_size == 100 and not rest.bulk_for(5000)
    capped = writer_for("salesforce", "Contact", identity_field="Email",
                        configuration={"ingestion_api": "rest", "rest_batch_size": 500})
    assert capped.batch_size == 200
    automatic = writer_for("salesforce", "Contact", identity_field="Email", configuration={})
    assert automatic.bulk_for(1000) and not automatic.bulk_for(999)
    small = writer_for("salesforce", "Contact", identity_field="Email",
                       configuration={"ingestion_api": "rest", "rest_batch_size": 100})
    small.write([record(f"s{i}@example.com", Email=f"s{i}@example.com", LastName="S") for i in range(250)])
    assert calls(sf, f"POST {COLLECTIONS}") == 3


def test_whole_batch_refusals_raise(writer_for, sf, sandbox):
    writer = writer_for("salesforce", "Contact", identity_field="External_Id__c", configuration=REST)
    with pytest.raises(ConnectorError, match="INVALID_FIELD: No such column 'Nope__c'"):
        writer.write([record("X-1", External_Id__c="X-1", LastName="X", Nope__c="y")])
    writer.http.auth = BearerAuth("expired")  # a token Salesforce no longer honours, never renewed
    with pytest.raises(ConnectionFailed, match="INVALID_SESSION_ID"):
        writer.write([record("X-1", External_Id__c="X-1", LastName="X")])


def test_a_refused_call_fails_only_its_own_records(writer_for, sf):
    writer = writer_for("salesforce", "Contact", identity_field="External_Id__c",
                        configuration={"ingestion_api": "rest", "rest_batch_size": 1})
    outcomes = writer.write([record("Y-1", External_Id__c="Y-1", LastName="Y", Nope__c=None),
                             record("Y-2", External_Id__c="Y-2", LastName="Y", Nope__c="y")])
    assert outcomes[0].ok and outcomes[0].action == "inserted"
    assert not outcomes[1].ok and "No such column 'Nope__c'" in outcomes[1].error


def test_prepare_names_a_missing_object_or_identity(writer_for, sf):
    assert writer_for("salesforce", "multi:leadOrContact", identity_field="Email").prepare() == {}
    with pytest.raises(ConnectorError, match="no field Nope__c"):
        writer_for("salesforce", "Contact", identity_field="Nope__c").prepare()
    with pytest.raises(ConnectorError, match="NOT_FOUND"):
        writer_for("salesforce", "Nope__c", identity_field="Id").prepare()


def test_sort_batches_by_groups_records_before_sending(writer_for, sf):
    writer = writer_for("salesforce", "Contact", identity_field="Email",
                        configuration={**REST, "sort_batches_by": "LastName"})
    outcomes = writer.write([record("b@example.com", Email="b@example.com", LastName="B"),
                             record("a@example.com", Email="a@example.com", LastName="A"),
                             record("c@example.com", Email="c@example.com", LastName="C")])
    assert [o.identity for o in outcomes] == ["b@example.com", "a@example.com", "c@example.com"]
    created_order = sorted(outcomes, key=lambda o: o.target_id)  # record ids grow as records are created
    assert [o.identity for o in created_order] == ["a@example.com", "b@example.com", "c@example.com"]
