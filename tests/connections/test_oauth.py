"""The OAuth callback's refusals, token renewal and revoked grants, against the sandbox."""

import threading
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.test import Client
from django.utils import timezone

from console.accounts.services import sign_up
from console.connections import oauth, services
from console.connections.models import Connection, ConnectionStatus, OAuthState
from console.connections.sessions import OAuthTokenAuth, provider_session
from integrations.base import NeedsReconnect
from integrations.clock import OffsetClock

from .helpers import consent, local_path
from .test_api import SALESLOFT, authorized, post


@pytest.fixture
def client(api):
    api.defaults["SERVER_NAME"] = "127.0.0.1"
    return api


def pending(client, body=SALESLOFT):
    data = post(client, "/api/connections", body).json()["data"]
    return Connection.objects.get(pk=data["id"]), data["auth_url"]


def state_of(auth_url: str) -> str:
    return parse_qs(urlsplit(auth_url).query)["state"][0]


def test_allow_stores_tokens_encrypted_and_marks_healthy(client, on_sandbox):
    connection, page = authorized(client, SALESLOFT)
    assert page.status_code == 200
    assert b"Connected to Salesloft." in page.content
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.HEALTHY
    assert connection.configuration["connected_user"] == "admin@sandbox.example"
    secrets = connection.secrets
    assert secrets["oauth_access_token"] and secrets["oauth_refresh_token"]
    assert secrets["oauth_access_token"] not in connection.encrypted_secrets
    assert OAuthState.objects.get(connection=connection).used_at is not None


def test_only_the_state_hash_is_stored(client, on_sandbox):
    connection, auth_url = pending(client)
    state = state_of(auth_url)
    record = OAuthState.objects.get(connection=connection)
    assert record.state_hash == oauth.hash_state(state) and state not in record.state_hash


def test_deny_leaves_the_connection_pending_with_a_clear_message(client, on_sandbox):
    connection, page = authorized(client, SALESLOFT, decision="deny")
    assert page.status_code == 200
    assert b"Access was denied at Salesloft" in page.content
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.PENDING_AUTH
    assert "denied" in connection.status_message
    assert "oauth_access_token" not in connection.secrets


def test_a_replayed_callback_is_refused(client, on_sandbox):
    connection, auth_url = pending(client)
    callback = local_path(consent(auth_url))
    assert b"Connected to Salesloft." in client.get(callback).content
    replay = client.get(callback)
    assert replay.status_code == 400
    assert b"already used" in replay.content


def test_an_unknown_state_is_refused(client, on_sandbox):
    connection, auth_url = pending(client)
    callback = consent(auth_url).replace(state_of(auth_url), "forged-state")
    page = client.get(local_path(callback))
    assert page.status_code == 400
    assert b"does not match any connection attempt" in page.content
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.PENDING_AUTH


def test_a_missing_state_is_refused(client):
    page = client.get("/connections/oauth/callback?code=abc")
    assert page.status_code == 400 and b"carries no state" in page.content


def test_an_expired_state_is_refused(client, on_sandbox):
    connection, auth_url = pending(client)
    callback = consent(auth_url)
    OAuthState.objects.filter(connection=connection).update(expires_at=timezone.now() - timedelta(seconds=1))
    page = client.get(local_path(callback))
    assert page.status_code == 400 and b"expired" in page.content
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.PENDING_AUTH


def test_a_console_started_attempt_only_completes_for_its_user(on_sandbox, org_admin, organization):
    connection = Connection.objects.create(organization=organization, name="S", type="salesloft",
                                           configuration={"auth_method": "oauth"}, status="pending_auth")
    browser = Client(SERVER_NAME="127.0.0.1")
    browser.force_login(org_admin)
    start = browser.get(f"/connections/{connection.pk}/authorize")
    assert start.status_code == 302
    callback = local_path(consent(start["Location"]))

    intruder = Client(SERVER_NAME="127.0.0.1")
    intruder.force_login(sign_up("intruder@example.com", "correct-horse-battery", "Intruders"))
    page = intruder.get(callback)
    assert page.status_code == 400 and b"started by someone else" in page.content
    assert Client(SERVER_NAME="127.0.0.1").get(callback).status_code == 400  # signed out
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.PENDING_AUTH


def test_redirect_url_is_where_the_callback_page_sends_the_browser(client, on_sandbox, organization):
    organization.oauth_redirect_urls = ["https://app.example.com"]
    organization.save()
    body = {"name": "S", "type": "salesloft", "configuration": {"auth_method": "oauth"},
            "redirect_url": "https://app.example.com/done"}
    data = post(client, "/api/connections", body).json()["data"]
    page = client.get(local_path(consent(data["auth_url"])))
    assert b'"redirect_url": "https://app.example.com/done"' in page.content


def test_gong_oauth_uses_the_customer_api_host(client, on_sandbox):
    connection, page = authorized(client, '{"name": "G","type": "gong", "configuration": {"auth_method": "oauth"}}')
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.HEALTHY, connection.status_message
    session = provider_session(connection)
    assert str(session.http.base_url).rstrip("/") == on_sandbox.url + "/gong"
    session.http.close()


# ---- renewal and revocation ---------------------------------------------------------


def salesloft_me(connection):
    session = provider_session(connection)
    try:
        return session.http.get("me")
    finally:
        session.http.close()


def test_a_token_about_to_expire_is_renewed_before_use(client, on_sandbox):
    connection, _ = authorized(client, SALESLOFT)
    connection.refresh_from_db()
    old = connection.secrets
    services.store_tokens(connection.pk, {"oauth_token_expiry": time.time() + 5})
    connection.refresh_from_db()
    assert salesloft_me(connection).status_code == 200
    connection.refresh_from_db()
    new = connection.secrets
    assert new["oauth_access_token"] != old["oauth_access_token"]
    assert new["oauth_refresh_token"] != old["oauth_refresh_token"]  # Salesloft rotates refresh tokens
    assert new["oauth_token_expiry"] > time.time() + 600


def test_a_session_renews_its_token_once_its_clock_passes_the_expiry(client, on_sandbox):
    connection, _ = authorized(client, SALESLOFT)
    connection.refresh_from_db()
    first = connection.secrets["oauth_access_token"]
    clock = OffsetClock()
    session = provider_session(connection)
    session.http.auth = OAuthTokenAuth(connection, session.config, clock=clock)
    try:
        assert session.http.get("me").status_code == 200
        connection.refresh_from_db()
        assert connection.secrets["oauth_access_token"] == first
        clock.advance(3600)  # the sandbox's token lifetime; the sandbox itself still takes the token
        assert session.http.get("me").status_code == 200
    finally:
        session.http.close()
    connection.refresh_from_db()
    assert connection.secrets["oauth_access_token"] != first


def test_a_401_renews_the_token_once_and_retries(client, on_sandbox):
    connection, _ = authorized(client, SALESLOFT)
    connection.refresh_from_db()
    old = connection.secrets["oauth_access_token"]
    httpx.post(f"{on_sandbox.url}/_sandbox/oauth/salesloft/expire-tokens").raise_for_status()
    assert salesloft_me(connection).status_code == 200
    connection.refresh_from_db()
    assert connection.secrets["oauth_access_token"] != old
    assert connection.status == ConnectionStatus.HEALTHY


def test_a_revoked_grant_marks_the_connection_needs_reconnect(client, on_sandbox):
    connection, _ = authorized(client, SALESLOFT)
    connection.refresh_from_db()
    httpx.post(f"{on_sandbox.url}/_sandbox/oauth/salesloft/revoke-all").raise_for_status()
    with pytest.raises(NeedsReconnect):
        salesloft_me(connection)
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.NEEDS_RECONNECT
    assert "refused" in connection.status_message

    # The test button says the same, and the API shows it.
    assert services.check_connection(connection).status == ConnectionStatus.NEEDS_RECONNECT
    data = client.get(f"/api/connections/{connection.pk}").json()["data"]
    assert data["status"] == "needs_reconnect" and data["status_error"]


def test_revoked_grant_then_reconnect_is_healthy_again(client, on_sandbox, org_admin):
    connection, _ = authorized(client, SALESLOFT)
    httpx.post(f"{on_sandbox.url}/_sandbox/oauth/salesloft/revoke-all").raise_for_status()
    connection.refresh_from_db()
    services.check_connection(connection)
    browser = Client(SERVER_NAME="127.0.0.1")
    browser.force_login(org_admin)
    page = browser.get(f"/connections/{connection.pk}")
    assert b"Needs reconnect" in page.content and b"Reconnect" in page.content
    start = browser.get(f"/connections/{connection.pk}/authorize")
    assert b"Connected to Salesloft." in browser.get(local_path(consent(start["Location"]))).content
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.HEALTHY


@pytest.mark.django_db(transaction=True)
def test_concurrent_sessions_renew_the_token_once(on_sandbox, organization, settings):
    connection = Connection.objects.create(organization=organization, name="S", type="salesloft",
                                           configuration={"auth_method": "oauth"})
    client = Client(SERVER_NAME="127.0.0.1")
    auth_url = oauth.authorization_url(connection, callback_url="http://127.0.0.1/connections/oauth/callback")
    client.get(local_path(consent(auth_url)))
    services.store_tokens(connection.pk, {"oauth_token_expiry": time.time() - 1})
    httpx.delete(f"{on_sandbox.url}/_sandbox/requests")
    results, errors = [], []

    def use():
        try:
            results.append(salesloft_me(Connection.objects.get(pk=connection.pk)).status_code)
        except Exception as error:  # noqa: BLE001  (reported below)
            errors.append(error)

    threads = [threading.Thread(target=use) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and results == [200] * 5
    counts = httpx.get(f"{on_sandbox.url}/_sandbox/requests").json()
    token_calls = sum(n for rule, n in flatten(counts).items() if "oauth/token" in rule)
    assert token_calls == 1, counts
    assert Connection.objects.get(pk=connection.pk).status == ConnectionStatus.HEALTHY


def flatten(counts) -> dict:
    """{"POST /salesloft/oauth/token": n, ...} from the sandbox's request counters, whatever their nesting."""
    flat = {}

    def walk(value, prefix=""):
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{prefix} {key}".strip())
        elif isinstance(value, int):
            flat[prefix] = value

    walk(counts)
    return flat
