"""Settings' record-logging switch and the notifications page's webhook deliveries, in the browser."""

import pytest

from console.accounts.models import Organization
from console.engine.models import Event, Webhook, WebhookDelivery

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_turns_record_logging_off_and_on(signed_in_page, organization):
    page = signed_in_page
    page.goto("/settings")
    box = page.locator("#record-logging-form input[name=enabled]")
    assert box.is_checked()
    box.uncheck()
    page.click("#record-logging-form button[type=submit]")
    page.wait_for_selector("text=Record logging is off.")
    assert Organization.objects.get(pk=organization.pk).record_logging is False
    assert not page.locator("#record-logging-form input[name=enabled]").is_checked()
    page.locator("#record-logging-form input[name=enabled]").check()
    page.click("#record-logging-form button[type=submit]")
    page.wait_for_selector("text=Record logging is on.")
    assert Organization.objects.get(pk=organization.pk).record_logging is True


def test_the_notifications_page_lists_each_delivery_attempt(signed_in_page, organization):
    webhook = Webhook(organization=organization, endpoint="https://hooks.example.com/x")
    webhook.secret = "s3cret"
    webhook.save()
    event = Event.objects.create(organization=organization, type="sync.completed", payload={})
    WebhookDelivery.objects.create(webhook=webhook, event=event, status_code=502, error="The endpoint answered HTTP 502.")
    WebhookDelivery.objects.create(webhook=webhook, event=event, status_code=200, success=True)
    page = signed_in_page
    page.goto("/settings/notifications")
    rows = page.locator("section:has(h2:text('Recent deliveries')) tbody tr")
    assert rows.count() == 2
    newest, oldest = (rows.nth(0).locator("td").all_inner_texts(), rows.nth(1).locator("td").all_inner_texts())
    assert newest[1:] == ["sync.completed", "2", "200"]
    assert oldest[1:3] == ["sync.completed", "1"] and "502" in oldest[3] and "HTTP 502" in oldest[3]
    assert "s3cret" not in page.content()
