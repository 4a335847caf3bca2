"""Models over SaaS sources through the API: a Salesforce object or SOQL query, a HubSpot
object, read from the sandbox."""

import json

import pytest

from tests.sandbox.conftest import sandbox, sandbox_server  # noqa: F401  (fixtures)
from tests.sandbox.connections import sandbox_connection
from tests.writers.conftest import Inspector

pytestmark = pytest.mark.django_db


@pytest.fixture
def salesforce(organization, sandbox, settings):  # noqa: F811
    settings.SANDBOX_URL = sandbox.url
    return sandbox_connection(organization, "salesforce", sandbox=sandbox, name="Salesforce")


@pytest.fixture
def hubspot(organization, sandbox, settings):  # noqa: F811
    settings.SANDBOX_URL = sandbox.url
    return sandbox_connection(organization, "hubspot", sandbox=sandbox, name="HubSpot")


def post(api, path, body):
    return api.post(path, json.dumps(body), content_type="application/json")


def model(connection, configuration, **extra):
    return {"name": "CRM model", "connection_id": str(connection.pk), "configuration": configuration, **extra}


def fields_of(response) -> dict:
    return {f["name"]: f for f in response.json()["data"]["fields"]}


def test_salesforce_object_model_has_typed_fields(api, salesforce):
    response = post(api, "/api/models", model(salesforce, {"table": "Lead"}, identifier="Email"))
    assert response.status_code == 200, response.content
    fields = fields_of(response)
    assert fields["Email"]["unique"] is True
    assert (fields["Status"]["type"], fields["Status"]["remote_type"]) == ("string", "picklist")
    assert fields["IsConverted"]["type"] == "boolean"
    assert fields["CreatedDate"]["type"] == "datetime"
    assert fields["OwnerId"]["remote_type"].startswith("reference(")
    model_id = response.json()["data"]["id"]

    sample = api.get(f"/api/models/{model_id}/sample").json()["data"]["records"]
    emails = sorted(r[model_id]["Email"] for r in sample)
    assert emails == ["dennis@bell.example", "linus@kernel.example", "margaret@apollo.example"]


def test_salesforce_chosen_fields_and_include_deleted(api, salesforce, sandbox):  # noqa: F811
    Inspector(sandbox.url).seed("salesforce", "Lead", [{"FirstName": "Gone", "LastName": "Away", "Company": "X",
                                                         "Email": "gone@example.com", "IsDeleted": True}])
    body = model(salesforce, {"table": "Lead", "include_deleted": False}, fields=["Email", "IsDeleted"])
    response = post(api, "/api/models", body)
    assert response.status_code == 200, response.content
    assert list(fields_of(response)) == ["IsDeleted", "Email"]
    model_id = response.json()["data"]["id"]
    emails = {r[model_id]["Email"] for r in api.get(f"/api/models/{model_id}/sample").json()["data"]["records"]}
    assert "gone@example.com" not in emails and len(emails) == 3

    body["configuration"]["include_deleted"] = True
    response = api.put(f"/api/models/{model_id}", json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    records = [r[model_id] for r in api.get(f"/api/models/{model_id}/sample").json()["data"]["records"]]
    assert {"Email": "gone@example.com", "IsDeleted": True} in records and len(records) == 4


def test_salesforce_soql_model(api, salesforce):
    query = "SELECT Id, Email, Account.Name FROM Contact WHERE Email LIKE '%acme.example'"
    response = post(api, "/api/model-preview", model(salesforce, {"query": query}))
    assert response.status_code == 200, response.content
    fields = fields_of(response)
    assert list(fields) == ["Id", "Email", "Account.Name"]
    assert fields["Id"]["remote_type"] == "id"

    created = post(api, "/api/models", model(salesforce, {"query": query}))
    model_id = created.json()["data"]["id"]
    records = [r[model_id] for r in api.get(f"/api/models/{model_id}/sample").json()["data"]["records"]]
    assert sorted((r["Email"], r["Account.Name"]) for r in records) == [
        ("ada@acme.example", "Acme Corporation"), ("katherine@acme.example", "Acme Corporation")]


def test_soql_syntax_error_is_a_400_in_salesforces_words(api, salesforce):
    response = post(api, "/api/models", model(salesforce, {"query": "SELECT Id FORM Contact"}))
    assert response.status_code == 400
    body = response.json()
    assert body["key"] == "query_error"
    assert "unexpected token" in body["message"] and "Salesforce" in body["message"]


def test_unknown_object_or_field_is_a_400_naming_it(api, salesforce):
    response = post(api, "/api/models", model(salesforce, {"table": "Nope__c"}))
    assert response.status_code == 400
    assert "Nope__c" in response.json()["message"]
    assert response.json()["metadata"]["errors"][0]["field"] == "configuration.table"

    response = post(api, "/api/models", model(salesforce, {"query": "SELECT Id, Shoe_Size__c FROM Contact"}))
    assert response.status_code == 400
    assert "Shoe_Size__c" in response.json()["message"]

    response = post(api, "/api/models", model(salesforce, {"table": "Lead"}, fields=["Email", "Shoe_Size__c"]))
    assert response.status_code == 400
    assert "Shoe_Size__c" in response.json()["message"]


@pytest.mark.parametrize("table", ["Contact/../../limits", "Contact WHERE Id != null", ""])
def test_an_object_name_must_be_an_api_name(api, salesforce, table):
    response = post(api, "/api/models", model(salesforce, {"table": table}))
    assert response.status_code == 400
    assert response.json()["metadata"]["errors"][0]["field"] == "configuration.table"


def test_unknown_configuration_key_is_refused(api, salesforce):
    response = post(api, "/api/models", model(salesforce, {"table": "Lead", "where": "x"}))
    assert response.status_code == 400
    assert response.json()["metadata"]["errors"][0]["field"] == "configuration.where"


def test_hubspot_contacts_model(api, hubspot):
    response = post(api, "/api/models", model(hubspot, {"object": "contacts"}, identifier="email",
                                                     fields=["id", "email", "firstname", "lifecyclestage"]))
    assert response.status_code == 200, response.content
    fields = fields_of(response)
    assert fields["lifecyclestage"]["remote_type"] == "enumeration"
    model_id = response.json()["data"]["id"]
    records = [r[model_id] for r in api.get(f"/api/models/{model_id}/sample").json()["data"]["records"]]
    assert records and all(set(r) == {"id", "email", "firstname", "lifecyclestage"} for r in records)


def test_hubspot_unknown_object(api, hubspot):
    response = post(api, "/api/models", model(hubspot, {"object": "spaceships"}))
    assert response.status_code == 400
    assert "spaceships" in response.json()["message"]
    response = post(api, "/api/models", model(hubspot, {"object": "../owners"}))
    assert response.status_code == 400
    assert response.json()["metadata"]["errors"][0]["field"] == "configuration.object"
