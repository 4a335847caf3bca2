"""Target fields with fixed values (Salesforce picklists, HubSpot enumerations) list them,
through discovery, the API (SDK get_target_fields) and the mapping page, so a mapping can be
checked before a run."""

import pytest

from integrations import registry
from integrations.hubspot.sandbox_schema import LIFECYCLE
from integrations.salesforce.sandbox_schema import LEAD_SOURCES
from tests.sdk_strict import strict_sdk

pytestmark = pytest.mark.django_db


def test_salesforce_picklists_carry_their_active_values(session_for):
    session = session_for("salesforce")
    fields = {f.id: f for f in registry.get("salesforce").targets.fields(session, "Lead")}
    assert fields["LeadSource"].values == tuple((value, value) for value in LEAD_SOURCES)
    assert fields["Rating"].values == (("Hot", "Hot"), ("Warm", "Warm"), ("Cold", "Cold"))
    assert fields["Email"].values == ()
    either = {f.id: f for f in registry.get("salesforce").targets.fields(session, "multi:leadOrContact")}
    assert either["LeadSource"].values == fields["LeadSource"].values


def test_hubspot_enumerations_carry_their_options(session_for):
    fields = {f.id: f for f in registry.get("hubspot").targets.fields(session_for("hubspot"), "contacts")}
    assert fields["lifecyclestage"].values == tuple((value, label) for label, value in LIFECYCLE)
    assert fields["email"].values == ()


@pytest.mark.django_db(transaction=True)
def test_sdk_target_fields_list_picklist_values(live_server, api_key, target):
    salesforce = target("salesforce", configuration={"domain": "acme.my.salesforce.com"})
    client = strict_sdk(live_server.url, api_key)
    fields = {f.id: f for f in client.model_sync.targets.get_target_fields(str(salesforce.pk), target="Lead").data.fields}
    assert [(v.value, v.label) for v in fields["Rating"].values] == [("Hot", "Hot"), ("Warm", "Warm"), ("Cold", "Cold")]
    assert fields["Email"].values is None


def test_the_mapping_page_shows_what_a_picklist_accepts(console, target, active_users):
    salesforce = target("salesforce", configuration={"domain": "acme.my.salesforce.com"})
    draft = {"model": str(active_users.pk), "connection": str(salesforce.pk), "object": "Lead",
             "mode": "updateOrCreate", "map_source": ["plan", "email"], "map_target": ["Rating", "Email"]}
    page = console.post("/syncs/builder", draft, HTTP_HX_REQUEST="true").content.decode()
    assert page.count('class="help accepted-values"') == 1
    assert "Accepts only: Hot, Warm, Cold" in page


def test_the_mapping_page_warns_of_a_constant_a_picklist_does_not_accept(console, target, active_users):
    salesforce = target("salesforce", configuration={"domain": "acme.my.salesforce.com"})
    draft = {"model": str(active_users.pk), "connection": str(salesforce.pk), "object": "Lead",
             "mode": "updateOrCreate", "const_target": ["Rating", "LeadSource"], "const_value": ["Lukewarm", "Web"]}
    page = console.post("/syncs/builder", draft, HTTP_HX_REQUEST="true").content.decode()
    assert "&#x27;Lukewarm&#x27; is not one of the values Rating accepts: Hot, Warm, Cold." in page
    assert page.count("is not one of the values") == 1  # Web is a Lead Source
