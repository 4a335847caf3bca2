"""The bulk sources on the sandbox, without the console: paging, cursors, deletes."""

from datetime import datetime, timedelta, timezone

import pytest

from integrations.hubspot import bulk_source as hubspot
from integrations.salesforce import bulk_source as salesforce
from tests.targets.conftest import session_for  # noqa: F401  (fixture: sessions through provider_session)
from tests.writers.conftest import Inspector


@pytest.fixture
def inspector(sandbox):  # noqa: F811 - the sandbox fixture comes through conftest
    return Inspector(sandbox.url)


def stamps(count, start=datetime(2026, 3, 1, tzinfo=timezone.utc)):
    return [(start + timedelta(seconds=n)) for n in range(count)]


def read_all(read) -> list[dict]:
    return [record for batch in read for record in batch]


def test_salesforce_reads_every_page_oldest_first_and_keeps_the_newest_stamp(session_for, sandbox, inspector):
    moments = stamps(2500)
    inspector.seed("salesforce", "Contact", [
        {"LastName": f"Person {n}", "Email": f"p{n}@bulk.example",
         "SystemModstamp": m.strftime("%Y-%m-%dT%H:%M:%S.000+0000")} for n, m in enumerate(moments)])
    session = session_for("salesforce")
    read = salesforce.Read(session, "Contact", ["Id", "Email", "SystemModstamp"])
    batches = list(read)
    assert len(batches) >= 2, "more than one page"
    records = [r for b in batches for r in b]
    assert len(records) == 2500 + 4  # the sandbox's own four contacts are older
    assert [r["SystemModstamp"] for r in records] == sorted(r["SystemModstamp"] for r in records)
    assert read.cursor == moments[-1].strftime("%Y-%m-%dT%H:%M:%S.000+0000")

    since = moments[2399].strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    later = read_all(salesforce.Read(session, "Contact", ["Id", "Email", "SystemModstamp"], since=since))
    assert [r["Email"] for r in later] == [f"p{n}@bulk.example" for n in range(2400, 2500)]


def test_salesforce_deleted_records_come_with_their_flag(session_for, sandbox, inspector):
    session = session_for("salesforce")
    contact = inspector.docs("salesforce", "Contact")[0]
    assert session.http.delete(f"sobjects/Contact/{contact['Id']}").status_code == 204
    with_deleted = {r["Id"]: r["_deleted"] for r in read_all(salesforce.Read(session, "Contact", ["Id"]))}
    assert with_deleted[contact["Id"]] is True and sum(with_deleted.values()) == 1
    without = {r["Id"] for r in read_all(salesforce.Read(session, "Contact", ["Id"], include_deleted=False))}
    assert contact["Id"] not in without and len(without) == len(with_deleted) - 1


def test_salesforce_objects_and_fields(session_for, sandbox):
    session = session_for("salesforce")
    assert {"Account", "Contact", "Lead"} <= {o["id"] for o in salesforce.objects(session)}
    fields = {f["id"]: f for f in salesforce.fields(session, "Contact")}
    assert fields["Id"]["is_primary_key"] and fields["SystemModstamp"]["type"] == "datetime"
    assert salesforce.tracking_field("Contact", fields) == "SystemModstamp"


def test_hubspot_search_starts_over_past_its_result_limit(session_for, sandbox, inspector, monkeypatch):
    monkeypatch.setattr(hubspot, "SEARCH_LIMIT", 400)  # the sandbox stops at 10,000, as HubSpot does
    inspector.settings(hubspot_search_per_second=1000, hubspot_requests_per_10s=10_000)
    moments = stamps(1000)
    inspector.seed("hubspot", "contacts", [
        {"properties": {"email": f"p{n}@bulk.example", "lastmodifieddate": m.strftime("%Y-%m-%dT%H:%M:%S.000Z")}}
        for n, m in enumerate(moments)])
    session = session_for("hubspot")
    since = moments[99].strftime("%Y-%m-%dT%H:%M:%S.000Z")
    read = hubspot.Read(session, "contacts", ["email"], since=since, include_deleted=False)
    records = read_all(read)
    assert {r["email"] for r in records} == {f"p{n}@bulk.example" for n in range(100, 1000)}
    assert read.cursor == moments[-1].strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_hubspot_archived_records_follow_with_their_flag(session_for, sandbox, inspector):
    session = session_for("hubspot")
    first = read_all(hubspot.Read(session, "contacts", ["email"]))
    gone = first[0]["id"]
    assert session.http.delete(f"crm/v3/objects/contacts/{gone}").status_code == 204
    since = max(r["lastmodifieddate"] for r in first)
    changed = read_all(hubspot.Read(session, "contacts", ["email"], since=since))
    assert [(r["id"], r["_deleted"]) for r in changed] == [(gone, True)]
    assert read_all(hubspot.Read(session, "contacts", ["email"], since=since, include_deleted=False)) == []


def as_csv(record: dict) -> dict:
    return {name: str(value).lower() if isinstance(value, bool) and name != "_deleted" else value
            for name, value in record.items()}


def test_salesforce_bulk_api_query_jobs_read_what_soql_reads(session_for, sandbox, inspector, monkeypatch):
    monkeypatch.setattr(salesforce, "BULK_SET_SIZE", 3)  # several result sets
    monkeypatch.setattr(salesforce, "BULK_POLL_SECONDS", (0.05, 0.05))
    inspector.settings(salesforce_bulk_seconds=0.2)
    session = session_for("salesforce")
    gone = inspector.docs("salesforce", "Contact")[0]["Id"]
    assert session.http.delete(f"sobjects/Contact/{gone}").status_code == 204
    fields = ["Id", "Email", "Birthdate", "HasOptedOutOfEmail", "SystemModstamp"]

    rest = salesforce.Read(session, "Contact", fields)
    bulk = salesforce.Read(session, "Contact", fields, query_api="bulk")
    rest_records, bulk_batches = read_all(rest), list(bulk)
    assert len(bulk_batches) == 2, "sets of three records"
    # Bulk CSV spells booleans as text; the destination reads both the same way
    assert sorted((r for b in bulk_batches for r in b), key=lambda r: r["Id"]) == sorted(
        (as_csv(r) for r in rest_records), key=lambda r: r["Id"])
    job = inspector.docs("salesforce", "query_jobs")[0]
    assert "ORDER BY" not in job["_query"], "Bulk API 2.0 queries are not ordered"
    assert bulk.cursor == rest.cursor
    assert {r["Id"]: r["_deleted"] for r in rest_records}[gone] is True

    live = read_all(salesforce.Read(session, "Contact", fields, include_deleted=False, query_api="bulk"))
    assert gone not in {r["Id"] for r in live} and len(live) == len(rest_records) - 1
    assert read_all(salesforce.Read(session, "Contact", fields, since=rest.cursor, query_api="bulk")) == []


def test_a_failed_salesforce_query_job_is_told(session_for, sandbox, monkeypatch):
    session = session_for("salesforce")
    read = salesforce.Read(session, "Contact", ["Id", "NoSuchField__c"], query_api="bulk")
    with pytest.raises(salesforce.ConnectorError, match="NoSuchField__c"):
        read_all(read)
