"""OAuth flows started through the API: the redirect_url allow-list, the binding to the
organization that started them, and PKCE wherever the provider documents it."""

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from console.accounts.services import sign_up
from console.connections.models import Connection, ConnectionStatus, OAuthState

from .helpers import consent, local_path
from .test_api import SALESLOFT, authorized, post

HUBSPOT = {"name": "HubSpot", "type": "hubspot", "configuration": {"auth_method": "oauth"}}


@pytest.fixture
def client(api):
    api.defaults["SERVER_NAME"] = "127.0.0.1"
    return api


def with_redirect(redirect_url):
    return {"name": "S", "type": "salesloft", "configuration": {"auth_method": "oauth"},
            "redirect_url": redirect_url}


@pytest.mark.parametrize("redirect_url", [
    "javascript:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "//app.example.com/done",
    "https://evil.example/done",
    "https://app.example.com.evil.example/done",
    "https://app.example.com@evil.example/done",
    "http://app.example.com/done",
])
def test_create_refuses_a_redirect_url_that_is_not_allowed(client, on_sandbox, organization, redirect_url):
    organization.oauth_redirect_urls = ["https://app.example.com"]
    organization.save()
    response = post(client, "/api/connections", with_redirect(redirect_url))
    assert response.status_code == 400
    body = response.json()
    assert body["key"] == "validation_error" and body["metadata"]["errors"][0]["field"] == "redirect_url"
    assert body["message"].startswith("redirect_url: ")
    assert not Connection.objects.exists() and not OAuthState.objects.exists()


def test_with_no_list_only_the_consoles_own_address_is_allowed(client, on_sandbox, settings):
    settings.PUBLIC_URL = "http://127.0.0.1:8000"
    refused = post(client, "/api/connections", with_redirect("https://app.example.com/done"))
    assert refused.status_code == 400 and "not on this organization's list" in refused.json()["message"]
    allowed = post(client, "/api/connections", with_redirect("http://127.0.0.1:8000/connections"))
    assert allowed.status_code == 200 and allowed.json()["data"]["auth_url"]


def test_update_refuses_an_off_list_redirect_url_and_changes_nothing(client, on_sandbox):
    connection_id = post(client, "/api/connections", SALESLOFT).json()["data"]["id"]
    body = {"name": "Renamed", "configuration": {"auth_method": "oauth"}, "reconnect": True,
            "redirect_url": "javascript:alert(1)"}
    response = client.put(f"/api/connections/{connection_id}", body, content_type="application/json")
    assert response.status_code == 400 and response.json()["metadata"]["errors"][0]["field"] == "redirect_url"
    assert Connection.objects.get(pk=connection_id).name != "Renamed"


def test_the_callback_drops_a_redirect_url_the_organization_no_longer_allows(client, on_sandbox, organization):
    organization.oauth_redirect_urls = ["https://app.example.com/oauth"]
    organization.save()
    data = post(client, "/api/connections", with_redirect("https://app.example.com/oauth/done")).json()["data"]
    organization.oauth_redirect_urls = []
    organization.save()
    page = client.get(local_path(consent(data["auth_url"])))
    assert b"Connected to Salesloft." in page.content
    assert b"app.example.com" not in page.content and b'"redirect_url": ""' in page.content


def test_a_person_of_another_organization_cannot_complete_an_api_started_flow(client, on_sandbox):
    data = post(client, "/api/connections", SALESLOFT).json()["data"]
    callback = local_path(consent(data["auth_url"]))
    outsider = Client(SERVER_NAME="127.0.0.1")
    outsider.force_login(sign_up("outsider@example.com", "correct-horse-battery", "Outsiders"))
    page = outsider.get(callback)
    assert page.status_code == 400 and b"organization you do not belong to" in page.content
    connection = Connection.objects.get(pk=data["id"])
    assert connection.status == ConnectionStatus.PENDING_AUTH and not connection.secrets.get("oauth_access_token")
    # The refusal did not spend the attempt: the browser it was meant for completes it.
    assert b"Connected to Salesloft." in client.get(callback).content


def test_a_member_of_the_organization_may_complete_an_api_started_flow(client, on_sandbox, org_admin):
    data = post(client, "/api/connections", SALESLOFT).json()["data"]
    member = Client(SERVER_NAME="127.0.0.1")
    member.force_login(org_admin)
    assert b"Connected to Salesloft." in member.get(local_path(consent(data["auth_url"]))).content


def test_hubspot_flows_use_pkce_and_complete(client, on_sandbox):
    connection, page = authorized(client, HUBSPOT)
    assert b"Connected to HubSpot." in page.content
    assert Connection.objects.get(pk=connection.pk).status == ConnectionStatus.HEALTHY

    data = post(client, "/api/connections", {**HUBSPOT, "name": "HubSpot 2"}).json()["data"]
    query = parse_qs(urlsplit(data["auth_url"]).query)
    verifier = OAuthState.objects.get(connection_id=data["id"]).code_verifier
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"] == [digest]


@pytest.mark.parametrize("type_id, configuration", [
    ("salesloft", {"auth_method": "oauth"}), ("gong", {"auth_method": "oauth"}), ("linkedinads", {})])
def test_providers_that_document_no_pkce_get_no_code_challenge(client, on_sandbox, type_id, configuration):
    body = {"name": type_id, "type": type_id, "configuration": configuration}
    data = post(client, "/api/connections", body).json()["data"]
    assert "code_challenge" not in parse_qs(urlsplit(data["auth_url"]).query)
