"""A Salesforce connection's page in the browser: its read-only properties after OAuth and
its API usage against the daily budget."""

import pytest

from console.connections.models import Connection, ConnectionStatus
from console.connections.sessions import provider_session
from tests.connections.conftest import on_sandbox  # noqa: F401  (fixtures)
from tests.sandbox.conftest import sandbox, sandbox_server  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_connection_page_shows_the_salesforce_user_instance_and_usage(signed_in_page, on_sandbox):  # noqa: F811
    page = signed_in_page
    page.goto("/connections/new/salesforce")
    form = page.locator("main form")
    assert form.locator("select[name=connect_mode] option[value=code]").count() == 0
    form.locator("input[name=name]").fill("Salesforce")
    form.locator("input[name=domain]").fill("acme.my.salesforce.com")
    form.locator("input[name=daily_api_calls]").fill("10")
    form.locator("input[name=enforce_api_limits]").check()
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#connect-button")

    with page.expect_popup() as opened:
        page.click("#connect-button")
    popup = opened.value
    popup.wait_for_load_state()
    with popup.expect_event("close"):
        popup.click("button[value=allow]")
    connection = Connection.objects.get(name="Salesforce")
    page.wait_for_function("() => document.body.innerText.includes('Healthy')")
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.HEALTHY, connection.status_message

    session = provider_session(connection)
    for _ in range(3):
        assert session.http.get("sobjects").status_code == 200
    page.reload()
    configuration = page.locator("#configuration").inner_text()
    assert "admin@sandbox.example" in configuration
    assert f"{on_sandbox.url}/salesforce" in configuration
    assert "read-only, from Salesforce" in configuration
    shown = page.locator("#usage").inner_text()
    assert "5 calls to Salesforce in the last 24 hours" in shown  # the check's identity and sobjects, and 3
    assert "Daily budget: 10 calls, enforced: 5 left today (UTC)" in shown
