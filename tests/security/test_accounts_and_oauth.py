"""Sign-up, sign-in and OAuth tried as an outsider would, against the live server.

Every request comes from 127.0.0.1, so the per-address budgets are shared by the
guesser and the account's owner: what lets the owner in is the known-browser cookie
their earlier sign-in left, not a different address.
"""

import re
import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from console.accounts.models import Organization, User
from console.accounts.services import sign_up
from console.connections.models import Connection, ConnectionStatus
from tests.connections.helpers import consent

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct-horse-battery"
SALESLOFT = {"name": "Salesloft", "type": "salesloft", "configuration": {"auth_method": "oauth"}}


class Browser:
    """A person's browser on the live console: cookies, and the CSRF token its forms carry."""

    def __init__(self, url):
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=30.0)

    def submit(self, path, data, form_page=None):
        page = self.http.get(form_page or path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        return self.http.post(path, data={**data, "csrfmiddlewaretoken": token})

    def sign_in(self, email, password):
        return self.submit("/signin", {"username": email, "password": password})

    def forget_session(self):
        self.http.cookies.delete("sessionid")

    def close(self):
        self.http.close()


@pytest.fixture
def browsers(live_server):
    opened = []

    def open_browser():
        opened.append(Browser(live_server.url))
        return opened[-1]

    yield open_browser
    for browser in opened:
        browser.close()


@pytest.fixture
def on_sandbox(settings, sandbox):  # noqa: F811  (sandbox comes from the suite's conftest)
    settings.SANDBOX_URL = sandbox.url
    return sandbox


# ---- sign-up ---------------------------------------------------------------------


def test_anonymous_sign_up_is_refused_by_default(browsers):
    visitor = browsers()
    page = visitor.http.get("/signup")
    assert page.status_code == 403 and "Sign-up is closed" in page.text
    assert 'name="password"' not in page.text
    # A valid CSRF token (from the sign-in form) does not open it either.
    answer = visitor.submit("/signup", {"email": "mallory@example.com", "password": PASSWORD,
                                        "organization": "Takeover"}, form_page="/signin")
    assert answer.status_code == 403 and "Sign-up is closed" in answer.text
    assert not User.objects.filter(email="mallory@example.com").exists()
    assert not Organization.objects.filter(name="Takeover").exists()
    assert "/signup" not in visitor.http.get("/signin").text


def test_open_sign_up_is_limited_per_address(browsers, settings):
    settings.ALLOW_SIGNUP = True
    settings.SIGNUPS_PER_IP_PER_HOUR = 2
    answers = []
    for n in range(3):
        answers.append(browsers().submit("/signup", {"email": f"bot{n}@example.com", "password": PASSWORD,
                                                     "organization": f"Bot {n}"}))
    assert [a.status_code for a in answers] == [302, 302, 429]
    assert "Too many sign-ups from your network" in answers[2].text
    assert sorted(User.objects.values_list("email", flat=True)) == ["bot0@example.com", "bot1@example.com"]


# ---- sign-in ---------------------------------------------------------------------


def test_guessing_from_one_address_hits_its_limit_but_not_the_owners_known_browser(
        browsers, org_admin, settings):
    settings.SIGNIN_ATTEMPTS_PER_IP_PER_15_MINUTES = 4
    sign_up("other@example.com", PASSWORD, "Other")
    owner = browsers()
    assert owner.sign_in("admin@example.com", PASSWORD).status_code == 302  # spends one of the four
    owner.forget_session()

    guesser = browsers()
    guesses = [guesser.sign_in(email, "wrong-guess")
               for email in ("admin@example.com", "other@example.com", "admin@example.com", "other@example.com")]
    assert [g.status_code for g in guesses] == [200, 200, 200, 429]
    assert "Too many sign-in attempts from your network" in guesses[3].text
    assert guesser.sign_in("admin@example.com", PASSWORD).status_code == 429  # the right password too
    assert browsers().sign_in("other@example.com", PASSWORD).status_code == 429  # any new browser here

    assert owner.sign_in("admin@example.com", PASSWORD).status_code == 302
    assert owner.http.get("/settings").status_code == 200


def test_guessing_one_account_locks_the_guesser_not_the_owner(browsers, org_admin, settings):
    settings.SIGNIN_ATTEMPTS_PER_15_MINUTES = 3
    owner = browsers()
    assert owner.sign_in("admin@example.com", PASSWORD).status_code == 302
    owner.forget_session()

    guesser = browsers()
    statuses = [guesser.sign_in("admin@example.com", "wrong-guess").status_code for _ in range(2)]
    assert statuses == [200, 200]
    locked = guesser.sign_in("admin@example.com", PASSWORD)
    assert locked.status_code == 429 and "Too many sign-in attempts for this account" in locked.text
    assert guesser.http.get("/settings").status_code == 302

    assert owner.sign_in("admin@example.com", PASSWORD).status_code == 302
    assert owner.http.get("/settings").status_code == 200


def test_guessing_api_keys_from_one_address_is_cut_off(live, api_key, settings):
    settings.API_KEY_FAILURES_PER_IP_PER_15_MINUTES = 5
    guesses = [live.get("/api/me", headers={"Authorization": f"Bearer {secrets.token_hex(16)}"}).status_code
               for _ in range(6)]
    assert guesses == [401] * 5 + [429]
    assert live.get("/api/me").status_code == 429  # no oracle: a right key is not tried either


# ---- OAuth -----------------------------------------------------------------------


def test_a_forged_state_is_refused(browsers, on_sandbox, live):
    connection_id = live.post("/api/connections", json=SALESLOFT).json()["data"]["id"]
    page = browsers().http.get("/connections/oauth/callback",
                               params={"state": secrets.token_urlsafe(32), "code": "stolen-code"})
    assert page.status_code == 400 and "does not match any connection attempt" in page.text
    assert Connection.objects.get(pk=connection_id).status == ConnectionStatus.PENDING_AUTH


def test_a_state_of_another_organization_is_refused(browsers, on_sandbox, live):
    data = live.post("/api/connections", json=SALESLOFT).json()["data"]
    callback = consent(data["auth_url"])
    sign_up("outsider@example.com", PASSWORD, "Outsiders")
    outsider = browsers()
    assert outsider.sign_in("outsider@example.com", PASSWORD).status_code == 302

    refused = outsider.http.get(callback)
    assert refused.status_code == 400 and "organization you do not belong to" in refused.text
    connection = Connection.objects.get(pk=data["id"])
    assert connection.status == ConnectionStatus.PENDING_AUTH
    assert "oauth_access_token" not in connection.secrets
    assert "Connected to Salesloft." in browsers().http.get(callback).text  # the intended browser still can


@pytest.mark.parametrize("redirect_url", ["javascript:alert(document.cookie)", "https://evil.example/oauth"])
def test_a_javascript_or_off_list_redirect_url_is_refused(on_sandbox, live, redirect_url):
    response = live.post("/api/connections", json={**SALESLOFT, "redirect_url": redirect_url})
    assert response.status_code == 400
    body = response.json()
    assert body["metadata"]["errors"][0]["field"] == "redirect_url" and body["message"].startswith("redirect_url:")
    assert live.get("/api/connections").json()["data"] == []


def test_a_listed_redirect_url_is_honoured(browsers, on_sandbox, live, organization):
    organization.oauth_redirect_urls = ["http://127.0.0.1:3000/oauth"]
    organization.save()
    data = live.post("/api/connections", json={**SALESLOFT, "redirect_url": "http://127.0.0.1:3000/oauth/done"})
    page = browsers().http.get(consent(data.json()["data"]["auth_url"]))
    assert '"redirect_url": "http://127.0.0.1:3000/oauth/done"' in page.text


@pytest.mark.parametrize("body, token_path", [
    ({"name": "HubSpot", "type": "hubspot", "configuration": {"auth_method": "oauth"}}, "/hubspot/oauth/v1/token"),
    ({"name": "Salesforce", "type": "salesforce", "configuration": {"domain": "https://x.my.salesforce.com"}},
     "/salesforce/services/oauth2/token"),
])
def test_pkce_the_code_is_useless_without_the_consoles_verifier(browsers, on_sandbox, live, body, token_path):
    data = live.post("/api/connections", json=body).json()["data"]
    query = parse_qs(urlsplit(data["auth_url"]).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43

    callback = consent(data["auth_url"])
    back = parse_qs(urlsplit(callback).query)
    stolen = httpx.post(f"{on_sandbox.url}{token_path}", data={
        "grant_type": "authorization_code", "code": back["code"][0], "client_id": "sandbox-client",
        "client_secret": "sandbox-secret", "redirect_uri": query["redirect_uri"][0],
        "code_verifier": secrets.token_urlsafe(48)})
    assert stolen.status_code == 400 and "access_token" not in stolen.text

    page = browsers().http.get(callback)
    assert f"Connected to {body['name']}." in page.text
    assert Connection.objects.get(pk=data["id"]).status == ConnectionStatus.HEALTHY
