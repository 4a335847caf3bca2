"""Attacks on Polytomic Connect: hostile redirect URLs, a list tightened after the session was
made, tokens kept only as hashes and no secret on any page or answer of the session."""

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from console.connections.models import Connection, ConnectSession

pytestmark = [pytest.mark.django_db(transaction=True)]
HOSTILE = ["javascript:alert(document.cookie)", "data:text/html,<script>alert(1)</script>",
           "//evil.example/back", "https://evil.example/back", "http://169.254.169.254/latest/meta-data/",
           "http://10.0.0.1/back", "http://user:pw@127.0.0.1:3000/back", "http://127.0.0.1:3000/../admin"]


@pytest.mark.parametrize("redirect_url", HOSTILE)
def test_a_hostile_redirect_url_is_refused_and_keeps_nothing(live, organization, redirect_url):
    organization.oauth_redirect_urls = ["http://127.0.0.1:3000/"]
    organization.save()
    answer = live.post("/api/connections/connect/", json={"name": "CRM", "redirect_url": redirect_url})
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["metadata"]["errors"][0]["field"] == "redirect_url" and body["message"].startswith("redirect_url:")
    assert not ConnectSession.objects.exists()


def test_the_token_is_kept_hashed_and_a_url_taken_off_the_list_is_not_followed(live, organization, settings):
    settings.PUBLIC_URL = live.url
    port = urlsplit(live.url).port
    settings.EGRESS_ALLOW = [f"127.0.0.1:{port}"]
    organization.oauth_redirect_urls = ["http://127.0.0.1:3000/"]
    organization.save()
    made = live.post("/api/connections/connect/", json={
        "name": "Webhook", "type": "httpapi", "redirect_url": "http://127.0.0.1:3000/back"}).json()["data"]
    token = parse_qs(urlsplit(made["redirect_url"]).query)["token"][0]
    assert token == made["token"] and not ConnectSession.objects.filter(token_hash=token).exists()

    organization.oauth_redirect_urls = []
    organization.save()
    browser = httpx.Client(base_url=live.url, timeout=60)
    form = browser.get("/connect", params={"token": token})
    csrf = form.text.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    finished = browser.post(f"/connect?token={token}&type=httpapi", data={
        "csrfmiddlewaretoken": csrf, "url": f"http://127.0.0.1:{port}/status", "headers": "X-Api-Key: hunter2-secret",
        "method": "POST"})
    connection = Connection.objects.get(name="Webhook")
    assert finished.status_code == 200, finished.text[:500]
    assert "The connection is made. You can close this window." in finished.text
    assert "hunter2-secret" not in finished.text and "hunter2-secret" not in str(connection.configuration)
    report = live.get("/api/connections/connect/session", params={"token": token}).json()["data"]
    assert report["connection_id"] == str(connection.pk) and report["status"] == "completed"
    assert "hunter2-secret" not in str(report)
