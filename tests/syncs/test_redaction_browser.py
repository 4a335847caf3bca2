"""A Salesloft redaction sync built by clicking: refused until REDACT is typed, and typed
again to activate it after a pause."""

import pytest

from console.syncs.models import Sync

from .test_builder_browser import choose, settled

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_redaction_sync_takes_the_typed_confirmation_to_save_and_to_activate(signed_in_page, active_users,
                                                                              target):
    target("salesloft", "My Salesloft Connection")
    page = signed_in_page
    page.click("text=Syncs")
    page.click("text=New sync")
    choose(page, "#f-model", label="Active Users")
    choose(page, "#f-connection", label="My Salesloft Connection (salesloft)")
    choose(page, "#f-object", label="Account and people redaction")
    page.get_by_text("Submit a redaction request for each account.").click()
    settled(page)
    choose(page, "#f-identity-source", value="email")
    choose(page, "#f-identity-target", value="Domain")
    assert "Redaction is irreversible" in page.locator("#step-configuration").inner_text()
    page.fill("#f-name", "GDPR erasure")

    page.click("#save-sync")
    page.wait_for_load_state()
    assert "type REDACT" in page.locator("#step-configuration").inner_text()
    assert not Sync.objects.exists()

    page.fill("#f-config-confirm_redaction", "REDACT")
    page.click("#save-sync")
    page.wait_for_url("**/syncs/*")
    sync = Sync.objects.get()
    assert (sync.target_object, sync.target_configuration) == ("account_redaction", {"confirm_redaction": "REDACT"})

    page.click("button:has-text('Pause')")
    page.wait_for_load_state()
    page.fill("#f-confirm_redaction", "REDACT")
    page.click("button:has-text('Activate')")
    page.wait_for_load_state()
    assert page.locator("button:has-text('Pause')").is_visible()
    sync.refresh_from_db()
    assert sync.active
