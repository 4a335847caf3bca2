"""A model over Salesforce made in the browser: an object or SOQL, previewed with typed fields."""

import pytest

from console.datamodels.models import DataModel
from tests.sandbox.conftest import sandbox, sandbox_server  # noqa: F401  (fixtures)
from tests.sandbox.connections import sandbox_connection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def salesforce(organization, sandbox, settings):  # noqa: F811
    settings.SANDBOX_URL = sandbox.url
    return sandbox_connection(organization, "salesforce", sandbox=sandbox, name="Salesforce")


def test_an_object_model_with_picklist_values_and_deleted_records(signed_in_page, salesforce):
    page = signed_in_page
    page.goto("/models/new")
    page.select_option("#f-connection", label="Salesforce (salesforce)")
    page.check("input[name=source][value=table]")
    page.locator("#table-options code", has_text="Lead").first.wait_for()
    page.fill("#f-table", "Lead")
    page.check("#f-include_deleted")
    page.click("#preview-button")

    status = page.locator("#preview-fields li", has_text="Status")
    status.wait_for()
    assert "picklist" in status.inner_text() and "Open - Not Contacted" in status.inner_text()
    assert page.locator("#preview-rows tbody tr").count() == 3

    page.fill("#f-name", "Leads")
    page.fill("#f-identifier", "Email")
    page.click("#save-model")
    page.wait_for_url("**/models/*")
    model = DataModel.objects.get()
    assert model.configuration == {"table": "Lead", "include_deleted": True}
    assert "Email" in page.locator("#model-fields tbody td:first-child").all_inner_texts()
    assert "picklist" in page.locator("#model-fields tbody tr", has_text="Status").inner_text()
    assert "table Lead · deleted records included" in page.locator("body").inner_text()


def test_a_soql_syntax_error_shows_salesforces_message(signed_in_page, salesforce):
    page = signed_in_page
    page.goto("/models/new")
    page.select_option("#f-connection", label="Salesforce (salesforce)")
    page.fill("#f-query", "SELECT Id FORM Lead")
    page.click("#preview-button")
    assert "unexpected token" in page.locator("#preview-error").inner_text()
