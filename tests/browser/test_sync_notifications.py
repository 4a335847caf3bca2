"""A sync's notification settings in Chromium: its error handling, shown and saved."""

import pytest

from console.engine import error_handling
from tests.engine.conftest import data_model, make_sync, target_connection, warehouse  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_error_handling_is_edited_on_the_syncs_notification_settings(signed_in_page, make_sync):  # noqa: F811
    sync = make_sync()
    page = signed_in_page
    page.goto(f"/syncs/{sync.pk}/notifications")  # linked from the sync's page (tests/engine/test_error_handling.py)
    page.fill("#id_subscribers", "ops@example.com\noncall@example.com")
    page.fill("#id_notify_after_failures", "3")
    page.check("#id_notify_on_record_errors")
    page.click("#error-handling button[type=submit]")
    page.locator("text=Notification settings saved.").wait_for()
    sync.refresh_from_db()
    assert error_handling.model_settings(sync) == {
        "subscribers": ["ops@example.com", "oncall@example.com"], "notify_after_failures": 3,
        "notify_on_record_errors": True, "warning_notifications": False, "auto_retry_record_errors": False}
    assert page.input_value("#id_notify_after_failures") == "3"

    page.fill("#id_subscribers", "not an address")
    page.click("#error-handling button[type=submit]")
    page.locator(".has-error [role=alert]").wait_for()
    sync.refresh_from_db()
    assert error_handling.model_settings(sync)["subscribers"] == ["ops@example.com", "oncall@example.com"]
