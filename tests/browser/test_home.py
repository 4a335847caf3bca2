"""The home page in Chromium: a failing sync, a run in progress whose counts move while the page
polls, and a connection needing a reconnect; each line leads to the page that fixes it."""

import pytest

from console.connections.models import Connection, ConnectionStatus
from console.engine.models import Execution, ExecutionStatus
from tests.engine.conftest import data_model, make_sync, target_connection, warehouse  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_home_shows_what_is_wrong_and_links_to_the_fix(signed_in_page, organization, make_sync):
    failing = make_sync(name="Leads to CRM")
    failed = Execution.objects.create(sync=failing, status=ExecutionStatus.FAILED, error="Token expired")
    running_sync = make_sync(name="Contacts to CRM")
    running = Execution.objects.create(sync=running_sync, status=ExecutionStatus.RUNNING, queried=10)
    broken = Connection.objects.create(organization=organization, name="Salesloft", type="salesloft",
                                       status=ConnectionStatus.NEEDS_RECONNECT, status_message="Token revoked.")
    page = signed_in_page

    page.goto("/")
    assert "Token expired" in page.locator("#failing").inner_text()
    assert "10 read" in page.locator("#running").inner_text()
    Execution.objects.filter(pk=running.pk).update(queried=25, inserted=20)
    page.locator("#running", has_text="25 read, 20 written").wait_for()  # the page polls while runs go on

    page.locator("#broken-connections a", has_text="Salesloft").click()
    page.wait_for_url(f"**/connections/{broken.pk}")
    page.go_back()
    page.locator("#failing a", has_text="Leads to CRM").click()
    page.wait_for_url(f"**/syncs/{failing.pk}/runs/{failed.pk}")
    page.go_back()
    page.locator("#running a", has_text="Contacts to CRM").click()
    page.wait_for_url(f"**/syncs/{running_sync.pk}/runs/{running.pk}")
