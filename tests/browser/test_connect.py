"""Polytomic Connect in a real browser: the page opened from the URL the API returned, the type
picked, OAuth in the popup against the sandbox, the redirect back, the connection healthy."""

import httpx
import pytest

from console.connections.models import Connection, ConnectionStatus, ConnectSession
from tests.browser.test_connections import answer_consent
from tests.connections.conftest import on_sandbox  # noqa: F401  (fixtures)
from tests.sandbox.conftest import sandbox, sandbox_server  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def session_url(live_server, api_key, settings):
    settings.PUBLIC_URL = live_server.url

    def make(**body):
        answer = httpx.post(f"{live_server.url}/api/connections/connect/", json=body,
                            headers={"Authorization": f"Bearer {api_key}"}, timeout=60)
        assert answer.status_code == 200, answer.text
        return answer.json()["data"]

    return make


def test_a_connect_session_is_completed_in_the_browser(page, live_server, session_url, on_sandbox):  # noqa: F811
    made = session_url(name="Customer Salesloft", redirect_url=f"{live_server.url}/signin?from=connect",
                       whitelist=["salesloft", "hubspot"])
    page.goto(made["redirect_url"])
    assert [t.strip() for t in page.locator("#connect-types a").all_inner_texts()] == ["HubSpot", "Salesloft"]
    page.click("#connect-types >> text=Salesloft")
    form = page.locator("#connect-form")
    assert form.locator("input[name=name]").count() == 0  # the session fixes the name
    form.locator("select[name=auth_method]").select_option("oauth")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#connection-health[data-status=pending_auth]")

    answer_consent(page, "allow")
    page.wait_for_url(f"{live_server.url}/signin?from=connect")

    connection = Connection.objects.get(name="Customer Salesloft")
    assert connection.type == "salesloft" and connection.status == ConnectionStatus.HEALTHY
    assert connection.secrets["oauth_access_token"]
    session = ConnectSession.objects.get()
    assert session.connection_id == connection.pk and session.completed_at is not None

    page.goto(made["redirect_url"])  # single use
    assert page.locator("#connect-message").inner_text() == "This Connect link was already used to make its connection."
    assert connection.secrets["oauth_access_token"] not in page.content()
