import pytest

from console.accounts.models import Organization

pytestmark = pytest.mark.browser


def test_an_admin_lists_oauth_redirect_urls_in_settings(signed_in_page):
    page = signed_in_page
    page.click("text=Settings")
    field = page.locator("#oauth-redirects-form textarea[name=urls]")
    field.fill("https://app.example.com/oauth\njavascript:alert(1)")
    page.click("text=Save redirect URLs")
    page.locator("#oauth-redirects-form .error", has_text="http:// or https://").wait_for()
    assert Organization.objects.get(name="Acme").oauth_redirect_urls == []

    page.locator("#oauth-redirects-form textarea[name=urls]").fill("https://app.example.com/oauth")
    page.click("text=Save redirect URLs")
    page.locator("text=Saved the OAuth redirect URLs.").wait_for()
    assert page.locator("#oauth-redirects-form textarea[name=urls]").input_value() == "https://app.example.com/oauth"
    assert Organization.objects.get(name="Acme").oauth_redirect_urls == ["https://app.example.com/oauth"]
