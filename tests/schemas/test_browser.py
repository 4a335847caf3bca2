"""The schema pages in Chromium: refresh a warehouse connection's schemas (run by the e2e worker),
then a table's fields, a field of one's own, primary keys and a sample of its rows."""

import pytest

pytestmark = [pytest.mark.worker, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_refresh_then_adjust_a_schema(e2e, connection_of, warehouse, signed_in_page):
    snowflake = connection_of("snowflake")
    table = warehouse.copy("users", rows=2)
    emails = [row[0] for row in warehouse.execute(f"SELECT email FROM {table}")]

    page = signed_in_page
    page.goto(f"/connections/{snowflake.pk}")
    page.click("text=Schemas")
    assert "No schemas yet" in page.locator("#schemas").inner_text()
    page.click("#refresh-schemas")
    page.locator("#refresh-status[data-status=fresh]").wait_for(timeout=60_000)  # polled, no reload
    page.click("text=Show the schemas found")
    page.click(f"#schemas a:text-matches('{table}$', 'i')")

    assert page.locator("tr[data-field=EMAIL]").count() == 1
    page.locator("#sample-records tbody tr").first.wait_for()
    rows = page.locator("#sample-records tbody tr").all_inner_texts()
    assert len(rows) == 2 and all(any(email in row for row in rows) for email in emails)

    page.fill("#field_id", "plan_name")
    page.fill("#label", "Plan name")
    page.select_option("#type", "string")
    page.click("text=Add field")
    assert "Field 'plan_name' saved." in page.content()
    assert page.locator("tr[data-field=plan_name]", has_text="Plan name").count() == 1

    page.check("input[name=primary_key][value=EMAIL]")
    page.click("#save-primary-keys")
    assert page.locator("input[name=primary_key][value=EMAIL]").is_checked()
    page.click("#reset-primary-keys")
    assert not page.locator("input[name=primary_key][value=EMAIL]").is_checked()

    page.click("#delete-plan_name")
    assert page.locator("tr[data-field=plan_name]").count() == 0
