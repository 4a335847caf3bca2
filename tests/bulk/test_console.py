"""The bulk-sync pages through Django's test client (the browser test clicks through them)."""

import pytest
from django.test import Client

from console.accounts.services import sign_up
from console.bulk import services
from console.bulk.models import BulkExecution, BulkSync


@pytest.fixture
def posted(fake_source, salesforce, sqlite_destination):
    def make(**changes):
        return {"name": "Contacts", "source_connection_id": str(salesforce.pk),
                "destination_connection_id": str(sqlite_destination.pk), "destination_schema": "sf",
                "deleted_records": "remove", "frequency": "weekly", "day_of_week": "1", "hour": "6",
                "minute": "15", "active": "on", "schema": ["Contact"],
                "known:Contact": ["Id", "Email", "LastName"], "field:Contact": ["Id", "Email"], **changes}

    return make


def test_the_form_step_shows_the_sources_objects_and_a_chosen_objects_fields(console, posted):
    html = console.post("/bulk/form", posted(schema=[]), HTTP_HX_REQUEST="true").content.decode()
    assert 'value="Contact"' in html and 'value="Account"' in html and 'name="field:Contact"' not in html
    html = console.post("/bulk/form", posted(), HTTP_HX_REQUEST="true").content.decode()
    assert 'name="field:Contact" value="Score__c"' in html
    assert 'id="f-day"' in html, "a weekly schedule asks for its day"


def test_saving_stores_the_definition(console, posted):
    response = console.post("/bulk/new", posted())
    sync = BulkSync.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/bulk/{sync.pk}/runs"
    assert sync.destination_configuration == {"schema": "sf", "deleted_records": "remove"}
    assert sync.schedule["frequency"] == "weekly" and str(sync.schedule["day_of_week"]) == "1"
    assert sync.schemas == [{"id": "Contact", "enabled": True, "fields": [
        {"id": "Id", "enabled": True}, {"id": "Email", "enabled": True}, {"id": "LastName", "enabled": False}]}]
    assert "Contacts" in console.get("/bulk").content.decode()


def test_a_refused_form_says_why_and_keeps_what_was_typed(console, posted):
    response = console.post("/bulk/new", posted(destination_schema="no spaces"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "destination_configuration.schema" in html and 'value="no spaces"' in html
    assert not BulkSync.objects.exists()


def test_editing_in_the_console_keeps_a_table_name_given_through_the_api(console, posted, organization,
                                                                         salesforce, sqlite_destination):
    sync = services.create_bulk_sync(organization, {
        "name": "Contacts", "source_connection_id": str(salesforce.pk),
        "destination_connection_id": str(sqlite_destination.pk), "destination_configuration": {"schema": "sf"},
        "default_schedule": {"frequency": "manual"}, "schemas": [{"id": "Contact", "user_output_name": "people"}]})
    page = console.get(f"/bulk/{sync.pk}").content.decode()
    assert 'name="output:Contact" value="people"' in page
    console.post(f"/bulk/{sync.pk}", posted(**{"output:Contact": "people"}))
    sync.refresh_from_db()
    assert sync.schemas[0]["user_output_name"] == "people"


def test_run_now_and_cancel_from_the_runs_page(console, posted):
    console.post("/bulk/new", posted())
    sync = BulkSync.objects.get()
    console.post(f"/bulk/{sync.pk}/runs/start", {"kind": "resync"})
    execution = BulkExecution.objects.get(sync=sync)
    assert execution.resync_mode == "resync" and execution.trigger == "manual"
    html = console.get(f"/bulk/{sync.pk}/runs").content.decode()
    assert "manual, full resync" in html and "Cancel" in html
    console.post(f"/bulk/{sync.pk}/runs/{execution.pk}/cancel")
    assert BulkExecution.objects.get(pk=execution.pk).status == "canceled"


def test_another_organizations_bulk_syncs_are_not_found(console, posted, db):
    console.post("/bulk/new", posted())
    sync = BulkSync.objects.get()
    stranger = Client()
    stranger.force_login(sign_up("other@example.com", "correct-horse-battery", "Globex"))
    for path in (f"/bulk/{sync.pk}", f"/bulk/{sync.pk}/runs"):
        assert stranger.get(path).status_code == 404
    assert stranger.post(f"/bulk/{sync.pk}/runs/start").status_code == 404
    assert "Contacts" not in stranger.get("/bulk").content.decode()
    assert not BulkExecution.objects.exists()
