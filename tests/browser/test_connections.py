"""Connections in the browser: OAuth in a popup (Allow, Deny, Reconnect after a revoked
grant) and LinkedIn ad accounts picked from the provider's values."""

import httpx
import pytest

from console.connections.models import Connection, ConnectionStatus
from tests.connections.conftest import on_sandbox  # noqa: F401  (fixtures)
from tests.sandbox.conftest import sandbox, sandbox_server  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def create_oauth_connection(page, type_id, name):
    page.goto(f"/connections/new/{type_id}")
    form = page.locator("main form")
    form.locator("input[name=name]").fill(name)
    if form.locator("select[name=auth_method]").count():
        form.locator("select[name=auth_method]").select_option("oauth")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#connect-button")
    return Connection.objects.get(name=name)


def answer_consent(page, decision):
    """Open the consent popup from the connection page and press Allow or Deny in it."""
    with page.expect_popup() as opened:
        page.click("#connect-button")
    popup = opened.value
    popup.wait_for_load_state()
    assert "Salesloft" in popup.content() or "LinkedIn" in popup.content()
    with popup.expect_event("close"):
        popup.click(f"button[value={decision}]")


def mark_page(page):
    """A value that only survives while the page is not reloaded."""
    page.evaluate("window.notReloaded = true")


def still_same_page(page) -> bool:
    return page.evaluate("window.notReloaded === true")


def test_salesloft_oauth_popup_allow_shows_healthy_without_reloading(signed_in_page, on_sandbox):  # noqa: F811
    page = signed_in_page
    connection = create_oauth_connection(page, "salesloft", "My Salesloft Connection")
    assert page.locator("#connection-health").get_attribute("data-status") == "pending_auth"
    mark_page(page)

    answer_consent(page, "allow")

    page.wait_for_selector("#connection-health[data-status=healthy]")
    assert still_same_page(page)
    assert page.locator("#connect-button").inner_text().strip() == "Reconnect"
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.HEALTHY and connection.secrets["oauth_access_token"]


def test_salesloft_oauth_popup_deny_explains_itself(signed_in_page, on_sandbox):  # noqa: F811
    page = signed_in_page
    create_oauth_connection(page, "salesloft", "Denied Salesloft")
    mark_page(page)

    answer_consent(page, "deny")

    message = page.locator("#status-message", has_text="denied")
    message.wait_for()
    assert "Access was denied at Salesloft" in message.inner_text()
    assert page.locator("#connection-health").get_attribute("data-status") == "pending_auth"
    assert page.locator("#connect-button").inner_text().strip() == "Connect to Salesloft"
    assert still_same_page(page)


def test_a_revoked_grant_shows_needs_reconnect_and_reconnect_heals_it(signed_in_page, on_sandbox):  # noqa: F811
    page = signed_in_page
    connection = create_oauth_connection(page, "salesloft", "Revoked Salesloft")
    answer_consent(page, "allow")
    page.wait_for_selector("#connection-health[data-status=healthy]")

    httpx.post(f"{on_sandbox.url}/_sandbox/oauth/salesloft/revoke-all").raise_for_status()
    page.click("text=Test connection")
    page.wait_for_selector("#connection-health[data-status=needs_reconnect]")
    assert "Needs reconnect" in page.locator("#connection-health").inner_text()
    assert page.locator("#connect-button").inner_text().strip() == "Reconnect"

    answer_consent(page, "allow")
    page.wait_for_selector("#connection-health[data-status=healthy]")
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.HEALTHY


def test_linkedin_ad_accounts_are_picked_from_the_providers_values(signed_in_page, on_sandbox):  # noqa: F811
    page = signed_in_page
    connection = create_oauth_connection(page, "linkedinads", "LinkedIn Ads")
    answer_consent(page, "allow")
    page.wait_for_selector("#connection-health[data-status=healthy]")

    boxes = page.locator("#choices-accounts input[type=checkbox]")
    boxes.first.wait_for()
    offered = [boxes.nth(i).get_attribute("value") for i in range(boxes.count())]
    assert len(offered) >= 2
    boxes.first.check()
    page.click("text=Save selection")
    page.wait_for_selector("#parameters-saved")

    connection.refresh_from_db()
    assert connection.configuration["accounts"] == [offered[0]]
    page.reload()
    page.locator("#choices-accounts input[type=checkbox]").first.wait_for()
    assert page.locator(f"#choices-accounts input[value='{offered[0]}']").is_checked()
