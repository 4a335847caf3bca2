"""The organization's OAuth redirect allow-list: what it lets through, and its Settings form."""

import pytest
from django.urls import reverse

from console.accounts import redirect_urls
from console.accounts.models import Organization, Role
from console.accounts.services import add_member, sign_up

pytestmark = pytest.mark.django_db

LISTED = ["https://app.example.com/oauth", "http://localhost:3000"]


@pytest.fixture
def listed(organization):
    organization.oauth_redirect_urls = LISTED
    organization.save()
    return organization


@pytest.mark.parametrize("url", [
    "https://app.example.com/oauth",
    "https://app.example.com/oauth/done?connection=1#top",
    "https://APP.example.com:443/oauth/done",
    "http://localhost:3000/anything",
])
def test_urls_under_a_listed_origin_or_prefix_are_allowed(listed, url):
    assert redirect_urls.check(listed, url) == url


@pytest.mark.parametrize("url, reason", [
    ("javascript:alert(1)", "http:// or https://"),
    ("JaVaScRiPt:alert(1)//https://app.example.com/oauth", "http:// or https://"),
    ("data:text/html,hi", "http:// or https://"),
    ("//app.example.com/oauth", "http:// or https://"),
    ("/oauth", "http:// or https://"),
    ("https:///oauth", "http:// or https://"),
    ("https://app.example.com/oauthx", "not on this organization's list"),
    ("https://app.example.com/other", "not on this organization's list"),
    ("http://app.example.com/oauth", "not on this organization's list"),
    ("https://app.example.com:8443/oauth", "not on this organization's list"),
    ("https://app.example.com.evil.example/oauth", "not on this organization's list"),
    ("https://user:pw@app.example.com/oauth", "user name or password"),
    ("https://app.example.com/oauth/../admin", "'..' path segments"),
    ("https://app.example.com/oauth/%2e%2e/admin", "'..' path segments"),
    ("https://app.example.com\\@evil.example/oauth", "backslashes"),
    (" https://app.example.com/oauth", "spaces"),
    ("https://app.example.com/oauth\n", "spaces"),
    ("https://app.example.com:99999/oauth", "invalid port"),
    ("https://app.example.com/oauth/" + "a" * 2000, "at most 2000"),
])
def test_other_urls_are_refused_with_the_reason(listed, url, reason):
    with pytest.raises(redirect_urls.RedirectRefused, match=reason.replace("?", r"\?").replace("(", r"\(")):
        redirect_urls.check(listed, url)


def test_an_empty_list_allows_only_the_public_url(organization, settings):
    settings.PUBLIC_URL = "https://console.example.com"
    assert redirect_urls.check(organization, "https://console.example.com/connections")
    with pytest.raises(redirect_urls.RedirectRefused):
        redirect_urls.check(organization, "https://app.example.com/")


# ---- Settings ---------------------------------------------------------------------


def test_admins_edit_the_list_in_settings(console, organization):
    page = console.get(reverse("settings"))
    assert b'id="oauth-redirects-form"' in page.content
    response = console.post(reverse("oauth-redirect-urls"),
                            {"urls": "https://app.example.com/oauth\n\n  http://localhost:3000 \n"})
    assert response.status_code == 302
    organization.refresh_from_db()
    assert organization.oauth_redirect_urls == LISTED
    assert b"https://app.example.com/oauth\nhttp://localhost:3000" in console.get(reverse("settings")).content


@pytest.mark.parametrize("line, message", [
    ("javascript:alert(1)", "http:// or https://"),
    ("https://app.example.com/oauth?next=x", "without ? or #"),
])
def test_a_bad_entry_is_refused_and_nothing_is_saved(console, listed, line, message):
    response = console.post(reverse("oauth-redirect-urls"), {"urls": f"https://ok.example.com\n{line}"})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert line.encode() in response.content  # what was typed stays in the form
    listed.refresh_from_db()
    assert listed.oauth_redirect_urls == LISTED


def test_members_see_the_list_but_cannot_change_it(client, listed):
    member = sign_up("m@example.com", "correct-horse-battery", "Mine")
    add_member(listed, member, Role.MEMBER)
    client.force_login(member)
    client.post(reverse("switch-organization"), {"organization": str(listed.id)})
    page = client.get(reverse("settings"))
    assert b'id="oauth-redirects-form"' not in page.content and b"https://app.example.com/oauth" in page.content
    assert client.post(reverse("oauth-redirect-urls"), {"urls": ""}).status_code == 403
    assert Organization.objects.get(pk=listed.pk).oauth_redirect_urls == LISTED
