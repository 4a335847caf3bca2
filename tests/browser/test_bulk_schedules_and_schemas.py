"""A bulk sync's page in Chromium: schedules added and deleted beside the default one, and an
object's filter, partition key and data cutoff saved (a bad one refused, nothing changed)."""

import pytest

from console.bulk.models import BulkSchedule, BulkSync
from tests.bulk.conftest import connect, fake_source, salesforce, sqlite_destination  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sync(organization, fake_source, salesforce, sqlite_destination):  # noqa: F811
    return BulkSync.objects.create(
        organization=organization, name="Contacts copy", source_connection=salesforce,
        destination_connection=sqlite_destination, destination_configuration={"schema": "sf"},
        schedule={"frequency": "hourly", "minute": "5"}, schemas=[{"id": "Contact", "enabled": True, "fields": []}])


def test_schedules_and_object_settings_on_the_bulk_syncs_page(signed_in_page, sync):
    page = signed_in_page
    page.goto(f"/bulk/{sync.pk}/runs")
    page.select_option("#s-frequency", "weekly")
    page.fill("#s-minute", "30")
    page.fill("#s-hour", "3")
    page.fill("#s-day-of-week", "0")
    page.select_option("#s-sync-mode", "resync")
    page.click("#add-schedule button[type=submit]")
    page.locator("text=Schedule added.").wait_for()
    assert page.locator("#schedules tr.extra-schedule").count() == 1
    added = BulkSchedule.objects.get()
    assert (added.schedule, added.sync_mode) == (
        {"frequency": "weekly", "minute": "30", "hour": "3", "day_of_week": "0"}, "resync")

    page.select_option("#s-frequency", "custom")
    page.fill("#s-minute", "0")
    page.fill("#s-hour", "0")
    page.fill("#s-day-of-month", "31")
    page.fill("#s-month", "2")
    page.click("#add-schedule button[type=submit]")
    page.locator("text=never comes due").wait_for()
    assert BulkSchedule.objects.count() == 1

    form = page.locator("#schema-Contact")
    form.locator("input[name=filter_field]").fill("Email")
    form.locator("select[name=filter_function]").select_option("StringEndsWith")
    form.locator("input[name=filter_value]").fill("@acme.example")
    form.locator("input[name=partition_key]").fill("Email")
    form.locator("button[type=submit]").click()
    page.locator("text=Settings of Contact saved").wait_for()
    stored = BulkSync.objects.get(pk=sync.pk).schemas[0]
    assert stored["filters"] == [{"field_id": "Email", "function": "StringEndsWith", "value": "@acme.example"}]
    assert stored["partition_key"] == "Email"

    page.locator("#schema-Contact input[name=partition_key]").fill("Nickname")
    page.locator("#schema-Contact button[type=submit]").click()
    page.locator("text=Settings of Contact not saved").wait_for()
    assert BulkSync.objects.get(pk=sync.pk).schemas[0] == stored

    page.locator("#schedules tr.extra-schedule button").click()
    page.locator("text=Schedule deleted.").wait_for()
    assert not BulkSchedule.objects.exists()
