"""Models over SaaS sources end to end: a worker reads the sandbox's Salesforce (an object or
SOQL, with and without deleted records) and HubSpot, and writes to Salesloft, HubSpot and
Salesforce."""

import pytest

from console.connections.sessions import provider_session
from tests.sandbox.connections import sandbox_connection

from .conftest import clear_requests, requests_since_clear

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

CONTACTS = ["ada@acme.example", "alan@initech.example", "grace@globex.example", "katherine@acme.example"]
GONE = "gone@acme.example"  # a deleted Contact, in the recycle bin


@pytest.fixture
def salesforce(e2e, organization, sandbox):
    e2e.seed("salesforce", "Contact", [{"FirstName": "Gone", "LastName": "Away", "Email": GONE,
                                        "IsDeleted": True}])
    return sandbox_connection(organization, "salesforce", sandbox=sandbox, name="Salesforce")


@pytest.fixture
def hubspot(e2e, organization, sandbox):
    return sandbox_connection(organization, "hubspot", sandbox=sandbox, name="HubSpot")


def create_model(public_api, connection, configuration, fields=None):
    body = {"name": "CRM records", "connection_id": str(connection.pk), "configuration": configuration}
    if fields:
        body["fields"] = fields
    response = public_api.post("/api/models", body)
    assert response.status_code == 200, response.content
    return response.json()["data"]["id"]


def sync_body(model_id, target, identity, fields, **extra):
    def source(name):
        return {"model_id": model_id, "field": name}

    return {"name": "CRM to CRM", "mode": "updateOrCreate", "schedule": {"frequency": "manual"},
            "identity": {"source": source(identity[0]), "target": identity[1], "function": "Equality"},
            "fields": [{"source": source(s), "target": t} for s, t in fields], "target": target, **extra}


def emails(inspector, provider, collection, key):
    return sorted(d[key] for d in inspector.docs(provider, collection) if d.get(key))


CONFIGURATIONS = {
    "object": {"table": "Contact"},
    "soql": {"query": "SELECT Id, Email, FirstName, LastName FROM Contact WHERE Email != null"},
}


@pytest.mark.parametrize("include_deleted", [False, True])
@pytest.mark.parametrize("kind", ["object", "soql"])
def test_salesforce_model_syncs_to_salesloft_and_hubspot(e2e, connection_of, salesforce, hubspot, public_api,
                                                         kind, include_deleted):
    model_id = create_model(public_api, salesforce, {**CONFIGURATIONS[kind], "include_deleted": include_deleted},
                            fields=["Email", "FirstName", "LastName"] if kind == "object" else None)
    expected = sorted(CONTACTS + ([GONE] if include_deleted else []))
    salesloft_before = set(emails(e2e, "salesloft", "people", "email_address"))
    people = public_api.create_sync(sync_body(
        model_id, {"connection_id": str(connection_of("salesloft").pk), "object": "people"},
        ("Email", "Email"), [("FirstName", "FirstName"), ("LastName", "LastName")]))
    run = public_api.run(people["id"])
    assert run["status"] == "completed", run
    assert run["counts"]["inserted"] + run["counts"]["updated"] == len(expected)
    assert set(emails(e2e, "salesloft", "people", "email_address")) - salesloft_before == set(expected)

    contacts = public_api.create_sync(sync_body(
        model_id, {"connection_id": str(hubspot.pk), "object": "contacts"},
        ("Email", "email"), [("FirstName", "firstname"), ("LastName", "lastname")]))
    run = public_api.run(contacts["id"])
    assert run["status"] == "completed", run
    in_hubspot = {d["properties"]["email"]: d["properties"] for d in e2e.docs("hubspot", "contacts")}
    assert set(expected) <= set(in_hubspot) and (GONE in in_hubspot) == include_deleted
    assert in_hubspot["alan@initech.example"]["lastname"] == "Turing"


def test_second_run_sends_only_the_changed_record(e2e, connection_of, salesforce, public_api):
    model_id = create_model(public_api, salesforce, {"table": "Contact"}, fields=["Id", "Email", "LastName"])
    sync = public_api.create_sync(sync_body(
        model_id, {"connection_id": str(connection_of("salesloft").pk), "object": "people"},
        ("Email", "Email"), [("LastName", "LastName")]))
    first = public_api.run(sync["id"])
    assert first["status"] == "completed" and first["counts"]["inserted"] == len(CONTACTS), first

    session = provider_session(salesforce)
    try:
        found = session.http.get("query", params={"q": "SELECT Id FROM Contact WHERE Email = 'ada@acme.example'"})
        ada = found.json()["records"][0]["Id"]
        assert session.http.patch(f"sobjects/Contact/{ada}", json={"LastName": "King"}).status_code == 204
    finally:
        session.http.close()

    clear_requests(e2e)
    second = public_api.run(sync["id"])
    assert second["status"] == "completed", second
    assert (second["counts"]["updated"], second["counts"]["unchanged"], second["counts"]["inserted"]) == (
        1, len(CONTACTS) - 1, 0)
    writes = {rule: n for rule, n in requests_since_clear(e2e)["rules"].items()
              if rule.startswith(("POST /salesloft", "PUT /salesloft"))}
    assert sum(writes.values()) == 1, writes
    [ada_person] = [p for p in e2e.docs("salesloft", "people") if p["email_address"] == "ada@acme.example"]
    assert ada_person["last_name"] == "King"


def test_hubspot_contacts_model_syncs_to_salesforce_leads(e2e, salesforce, hubspot, public_api):
    model_id = create_model(public_api, hubspot, {"object": "contacts"},
                            fields=["id", "email", "firstname", "lastname"])
    hubspot_emails = sorted(d["properties"]["email"] for d in e2e.docs("hubspot", "contacts"))
    sync = public_api.create_sync(sync_body(
        model_id, {"connection_id": str(salesforce.pk), "object": "Lead"},
        ("email", "Email"), [("firstname", "FirstName"), ("lastname", "LastName")],
        override_fields=[{"target": "Company", "override_value": "From HubSpot"}]))
    run = public_api.run(sync["id"])
    assert run["status"] == "completed", run
    assert run["counts"]["inserted"] == len(hubspot_emails)
    leads = {d["Email"]: d for d in e2e.docs("salesforce", "Lead") if d.get("Company") == "From HubSpot"}
    assert sorted(leads) == hubspot_emails
    assert leads["ada@lovelace.example"]["LastName"] == "Lovelace"
