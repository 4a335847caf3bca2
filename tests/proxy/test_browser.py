"""The proxy's switch on a connection's page in Chromium: off until an admin turns it on."""

import pytest

from console.proxy.models import ProxySettings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_turns_the_proxy_on_and_off(salesloft, signed_in_page):
    page = signed_in_page
    page.goto(f"/connections/{salesloft.pk}")
    assert "Off" in page.locator("#proxy-state").inner_text()
    page.click("#proxy-switch")
    page.locator("#proxy-state", has_text="On").wait_for()
    assert ProxySettings.objects.get(connection=salesloft).enabled is True
    page.click("#proxy-switch")
    page.locator("#proxy-state", has_text="Off").wait_for()
    assert ProxySettings.objects.get(connection=salesloft).enabled is False
