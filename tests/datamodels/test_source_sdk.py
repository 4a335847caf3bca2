"""The official SDK's model_sync.get_source and get_source_fields against a live server, for a
warehouse and for the SaaS sources (Salesforce, HubSpot on the sandbox)."""

import pytest
from polytomic.errors import BadRequestError, NotFoundError

from tests.sandbox.conftest import sandbox, sandbox_server  # noqa: F401  (fixtures)
from tests.sandbox.connections import sandbox_connection
from tests.sdk_strict import strict_sdk

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def client(live_server, api_key):
    return strict_sdk(live_server.url, api_key)


@pytest.fixture
def on_sandbox(sandbox, settings):  # noqa: F811
    settings.SANDBOX_URL = sandbox.url
    return sandbox


def test_warehouse_source_and_fields(client, sqlite_warehouse):
    source = client.model_sync.get_source(str(sqlite_warehouse.pk)).data
    assert source.requires_one_of == ["query", "table"]
    assert source.items["table"].has_items is True and source.items["table"].items == ["people"]
    assert source.items["query"].has_items is False

    fields = client.model_sync.get_source_fields(str(sqlite_warehouse.pk), params={"table": ["people"]}).data
    assert [(f.name, f.type) for f in fields] == [("email", "string"), ("first_name", "string"),
                                                  ("score", "integer")]
    queried = client.model_sync.get_source_fields(str(sqlite_warehouse.pk),
                                                  params={"query": ["SELECT email FROM people"]}).data
    assert [f.name for f in queried] == ["email"]


def test_salesforce_source_and_fields(client, organization, on_sandbox):
    salesforce = sandbox_connection(organization, "salesforce", sandbox=on_sandbox)
    source = client.model_sync.get_source(str(salesforce.pk)).data
    assert source.requires_one_of == ["table", "query"]
    assert {"Contact", "Lead", "Account"} <= set(source.items["table"].items)
    assert source.items["include_deleted"].has_items is False

    fields = {f.name: f for f in client.model_sync.get_source_fields(
        str(salesforce.pk), params={"table": ["Lead"], "include_deleted": ["true"]}).data}
    assert fields["Status"].remote_type == "picklist"
    assert fields["Status"].description.startswith("One of: Open - Not Contacted")
    assert fields["AnnualRevenue"].type == "number" and fields["CreatedDate"].type == "datetime"
    assert fields["IsDeleted"].type == "boolean"

    soql = client.model_sync.get_source_fields(str(salesforce.pk),
                                               params={"query": ["SELECT Id, Email FROM Contact"]}).data
    assert [f.name for f in soql] == ["Id", "Email"]

    with pytest.raises(BadRequestError) as refused:
        client.model_sync.get_source_fields(str(salesforce.pk), params={"query": ["SELECT Id FORM Contact"]})
    assert "unexpected token" in refused.value.body.message
    with pytest.raises(BadRequestError) as unknown:
        client.model_sync.get_source_fields(str(salesforce.pk), params={"table": ["Starship__c"]})
    assert "Starship__c" in unknown.value.body.message


def test_hubspot_source_and_fields(client, organization, on_sandbox):
    hubspot = sandbox_connection(organization, "hubspot", sandbox=on_sandbox)
    source = client.model_sync.get_source(str(hubspot.pk)).data
    assert source.requires_one_of == ["object"]
    assert {"contacts", "companies", "deals"} <= set(source.items["object"].items)

    fields = {f.name: f for f in client.model_sync.get_source_fields(
        str(hubspot.pk), params={"object": ["contacts"]}).data}
    assert fields["id"].remote_type == "id"
    assert fields["email"].type == "string" and fields["email"].label == "Email"
    assert fields["lifecyclestage"].remote_type == "enumeration"
    assert "customer" in fields["lifecyclestage"].description


def test_unknown_connection_is_a_404(client):
    with pytest.raises(NotFoundError):
        client.model_sync.get_source("00000000-0000-0000-0000-000000000000")


def test_sdk_creates_and_samples_salesforce_and_hubspot_models(client, organization, on_sandbox):
    salesforce = sandbox_connection(organization, "salesforce", sandbox=on_sandbox)
    preview = client.models.preview(name="Leads", connection_id=str(salesforce.pk),
                                    configuration={"query": "SELECT Id, Email, IsConverted FROM Lead",
                                                   "include_deleted": False}).data
    assert [(f.name, f.type) for f in preview.fields] == [("Id", "string"), ("Email", "string"),
                                                          ("IsConverted", "boolean")]
    created = client.models.create(name="Leads", connection_id=str(salesforce.pk), identifier="Email",
                                   configuration={"table": "Lead", "include_deleted": False},
                                   fields=["Email", "IsConverted"]).data
    assert created.configuration == {"table": "Lead", "include_deleted": False}
    records = [r[created.id] for r in client.models.sample(created.id).data.records]
    assert {"Email": "dennis@bell.example", "IsConverted": True} in records and len(records) == 3

    hubspot = sandbox_connection(organization, "hubspot", sandbox=on_sandbox)
    deals = client.models.create(name="Deals", connection_id=str(hubspot.pk), configuration={"object": "deals"},
                                 fields=["id", "dealname", "amount"]).data
    assert {f.name: f.type for f in deals.fields} == {"id": "string", "dealname": "string", "amount": "number"}
    amounts = sorted(r[deals.id]["amount"] for r in client.models.sample(deals.id).data.records)
    assert amounts == ["12000", "4500"]
