import re

import httpx
import pytest

pytestmark = pytest.mark.browser


def test_sign_in_and_create_an_api_key(signed_in_page, live_server):
    page = signed_in_page
    page.click("text=Settings")
    page.fill("input[name=name]", "laptop")
    page.click("text=Create API key")
    key = page.locator("#new-api-key").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f-]{36}", key)
    # The new key's row joined the table without a reload.
    assert page.locator("#api-key-rows tr", has_text="laptop").count() == 1

    response = httpx.get(f"{live_server.url}/api/me", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    assert response.json()["data"]["email"] == "admin@example.com"

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#api-key-rows tr", has_text="laptop").locator("text=Revoke").click()
    page.locator("#api-key-rows tr", has_text="laptop").locator("text=revoked").wait_for()
    assert httpx.get(f"{live_server.url}/api/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401


def test_sign_up_in_the_browser(page, settings):
    settings.ALLOW_SIGNUP = True
    page.goto("/signin")
    page.click("text=Create an account")
    page.fill("input[name=email]", "grace@example.com")
    page.fill("input[name=password]", "correct-horse-battery")
    page.fill("input[name=organization]", "Hopper Inc")
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    assert page.locator("h1").inner_text() == "Hopper Inc"


def test_sign_up_is_closed_by_default_in_the_browser(page):
    page.goto("/signin")
    assert page.locator("text=Create an account").count() == 0
    page.goto("/signup")
    assert page.locator("h1").inner_text() == "Sign-up is closed"
    assert page.locator("input[name=password]").count() == 0
