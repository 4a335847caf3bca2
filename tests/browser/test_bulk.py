"""Setting up a bulk sync in the console: a Salesforce (sandbox) source, objects and
fields picked, a warehouse schema, a schedule; then a run and its history page."""

import time
import uuid

import pytest

from console.bulk import runs
from console.bulk.models import BulkExecution, BulkSync
from console.connections.models import Connection
from console.engine.models import TERMINAL_STATUSES
from tests.sandbox.conftest import sandbox, sandbox_server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture
def connections(organization, sandbox, settings, worker_files):  # noqa: F811
    settings.SANDBOX_URL = sandbox.url
    salesforce = Connection.objects.create(
        organization=organization, name="Salesforce", type="salesforce",
        configuration={"domain": "login.salesforce.com", "connect_mode": "browser"},
        secrets={"oauth_access_token": "sandbox-api-key", "oauth_refresh_token": "not-used",
                 "oauth_token_expiry": time.time() + 3600,
                 "oauth_instance_url": f"{sandbox.url}/salesforce"})  # a worker may run it without SANDBOX_URL
    settings.FILE_CONNECTIONS_DIR = str(worker_files)  # a worker of this session may run the sync
    warehouse = Connection.objects.create(organization=organization, name="Demo warehouse", type="sqlite",
                                          configuration={"path": f"{uuid.uuid4().hex}.sqlite3"})
    return salesforce, warehouse


def test_set_up_a_bulk_sync_and_read_its_runs(signed_in_page, connections):
    salesforce, warehouse = connections
    page = signed_in_page
    page.goto("/bulk")
    page.click("text=New bulk sync")

    page.select_option("#f-source", str(salesforce.pk))
    page.locator("#step-objects input[name=schema][value=Contact]").check()
    fields = page.locator("#fields-Contact")
    fields.wait_for()
    assert fields.locator("input[type=checkbox][value=Id]").is_disabled(), "the key is always copied"
    fields.locator("input[name='field:Contact'][value=Description]").uncheck()
    page.select_option("#f-destination", str(warehouse.pk))
    page.fill("#f-schema", "salesforce")
    page.fill("#f-name", "Contacts to the warehouse")
    page.select_option("#f-frequency", "daily")
    page.locator("#f-hour").wait_for()
    assert page.locator("#f-schema").input_value() == "salesforce", "a rebuild keeps what was typed"
    assert page.locator("#fields-Contact input[type=checkbox][value=Description]").is_checked() is False
    page.fill("#f-hour", "3")
    page.fill("#f-minute", "30")
    page.click("text=Save bulk sync")

    page.wait_for_url("**/runs")
    assert page.locator("h1").inner_text() == "Runs of Contacts to the warehouse"
    assert page.locator("#runs .empty").count() == 1
    sync = BulkSync.objects.get(name="Contacts to the warehouse")
    assert sync.destination_configuration == {"schema": "salesforce", "deleted_records": "mark"}
    assert {"frequency": "daily", "hour": "3", "minute": "30"}.items() <= {
        k: str(v) for k, v in sync.schedule.items()}.items()
    [contact] = sync.schemas
    assert contact["id"] == "Contact"
    assert {f["id"] for f in contact["fields"] if not f["enabled"]} == {"Description"}
    assert sync.next_run_at is not None

    page.click("button:has-text('Run now')")
    execution = BulkExecution.objects.get(sync=sync)
    runs.bulk_runs.run(execution.pk)  # a no-op when a worker of this session took it already
    deadline = time.monotonic() + 30
    while BulkExecution.objects.get(pk=execution.pk).status not in TERMINAL_STATUSES:
        assert time.monotonic() < deadline, "the run did not end"
        time.sleep(0.2)
    page.reload()
    row = page.locator("#runs tbody tr").first
    assert "completed" in row.inner_text().lower()
    assert "salesforce_contact: 4 records" in row.locator(".objects").inner_text()

    page.click("text=Edit")
    assert page.locator("#f-name").input_value() == "Contacts to the warehouse"
    assert page.locator("#fields-Contact input[type=checkbox][value=Description]").is_checked() is False
