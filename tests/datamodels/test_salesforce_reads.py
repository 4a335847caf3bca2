"""Salesforce model reads on the sandbox: REST pages and Bulk API 2.0 result sets give the same
records, typed alike, so a model's fingerprints do not depend on the API that read it."""

import pytest

from integrations.salesforce import bulk_source, model_source
from tests.sandbox.conftest import sandbox, sandbox_server  # noqa: F401  (fixtures)
from tests.sandbox.connections import sandbox_connection
from tests.writers.conftest import Inspector

pytestmark = pytest.mark.django_db

COLUMNS = ["Id", "Email", "Score__c", "Tier__c", "IsDeleted", "Account__c", "CreatedDate"]


@pytest.fixture
def session(organization, sandbox, settings):  # noqa: F811
    from console.connections.sessions import provider_session

    settings.SANDBOX_URL = sandbox.url
    opened = provider_session(sandbox_connection(organization, "salesforce", sandbox=sandbox))
    yield opened
    opened.http.close()


def read_all(session, configuration, columns, batch_size=2):
    return [row for batch in model_source.read(session, configuration, columns, batch_size) for row in batch]


def test_rest_and_bulk_reads_give_the_same_typed_records(session, sandbox, monkeypatch):  # noqa: F811
    requests = []
    session.http.event_hooks["request"].append(lambda request: requests.append(request.url.path))
    Inspector(sandbox.url).seed("salesforce", "Customer_Score__c", [
        {"Name": f"Score {n}", "Score__c": n + 0.5, "Tier__c": "Gold", "Customer_Id__c": f"C-{n}",
         "IsDeleted": n == 3} for n in range(5)])
    configuration = {"table": "Customer_Score__c", "include_deleted": True}
    columns = [c for c in COLUMNS if c != "Email"]
    rest = read_all(session, configuration, columns)
    monkeypatch.setattr(model_source, "BULK_THRESHOLD", 0)
    monkeypatch.setattr(bulk_source, "BULK_SET_SIZE", 4)  # result sets of 4 rows: Sforce-Locator pages
    bulk = read_all(session, configuration, columns)
    assert len(rest) == 6 and sorted(rest, key=lambda r: r["Id"]) == sorted(bulk, key=lambda r: r["Id"])
    assert {type(r["Score__c"]) for r in bulk} == {float} and {r["IsDeleted"] for r in bulk} == {True, False}
    assert sum(path.endswith("/results") for path in requests) == 2  # 6 rows in sets of 4

    without_deleted = read_all(session, {**configuration, "include_deleted": False}, columns)
    assert len(without_deleted) == 5 and not any(r["IsDeleted"] for r in without_deleted)


def test_rest_reads_follow_next_records_url(session, sandbox):  # noqa: F811
    Inspector(sandbox.url).seed("salesforce", "Lead", [
        {"LastName": f"L{n}", "Company": "Paged", "Email": f"l{n}@paged.example"} for n in range(2100)])
    rows = read_all(session, {"query": "SELECT Id, Email FROM Lead WHERE Company = 'Paged'",
                              "include_deleted": False}, [], batch_size=500)
    assert len(rows) == 2100 and len({r["Id"] for r in rows}) == 2100
