"""The home page and the sync list in Chromium after runs of the real worker: the sync whose
run rejected a record is on the home page and links to that run; the sync list shows the last
run's status and counts and the cadence by its name beside its id."""

import pytest

from console.connections.models import Connection, ConnectionStatus
from console.syncs.models import Sync

from .test_seed_000 import cadence_sync  # noqa: F401  (fixture)

pytestmark = [pytest.mark.worker, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_home_and_sync_list_after_a_run_that_rejected_a_record(
        e2e, cadence_sync, warehouse, public_api, signed_in_page):  # noqa: F811
    sync_id, table = cadence_sync(4)
    [email] = warehouse.execute(f"SELECT email FROM {table} ORDER BY email LIMIT 1")[0]
    e2e.seed("salesloft", "people", [{"email_address": email, "do_not_contact": True}])
    execution = public_api.run(sync_id)
    assert execution["status"] == "completed" and execution["counts"]["error"] == 1, execution
    sync = Sync.objects.select_related("target_connection").get(pk=sync_id)
    Connection.objects.filter(pk=sync.target_connection_id).update(
        status=ConnectionStatus.NEEDS_RECONNECT, status_message="Salesloft refused the token.")
    page = signed_in_page

    page.goto("/syncs")
    row = page.locator("#syncs tbody tr", has_text=sync.name)
    assert row.locator(".last-run .badge").inner_text().strip() == "completed"
    assert "4 read · 3 written · 1 rejected" in row.locator(".last-run").inner_text()
    target = row.locator("td.target")
    assert target.locator(".target-name").inner_text().strip() not in ("", sync.target_object)
    assert target.locator("code").inner_text().strip() == sync.target_object

    page.goto("/")
    assert "1 record rejected in the last 24 hours" in page.locator("#rejected").inner_text()
    assert "Salesloft refused the token." in page.locator("#broken-connections").inner_text()
    page.locator("#failing a", has_text=sync.name).click()
    page.wait_for_url(f"**/syncs/{sync_id}/runs/{execution['id']}")
    assert "person is marked do not contact" in page.locator("#record-errors").inner_text()
    page.go_back()
    page.locator("#broken-connections a").first.click()
    page.wait_for_url(f"**/connections/{sync.target_connection_id}")
