"""The query runner page in Chromium: a refused query shows the reason, a good one is run by the
e2e worker and its rows appear without a reload."""

import pytest

pytestmark = [pytest.mark.worker, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_run_a_query_and_see_its_rows(e2e, connection_of, warehouse, signed_in_page):
    snowflake = connection_of("snowflake")
    table = warehouse.copy("users", rows=3)
    emails = sorted(row[0] for row in warehouse.execute(f"SELECT email FROM {table}"))

    page = signed_in_page
    page.goto("/")
    page.click("nav >> text=Queries")
    page.select_option("#connection", str(snowflake.pk))
    page.fill("#query", f"DELETE FROM {table}")
    page.click("#run-query")
    assert "Only a SELECT" in page.locator("#query-error").inner_text()
    assert page.input_value("#query") == f"DELETE FROM {table}"  # kept to fix

    page.fill("#query", f"SELECT email FROM {table} ORDER BY email")
    page.click("#run-query")
    page.wait_for_url("**/queries/*")
    page.locator("#query-result[data-status=done]").wait_for(timeout=60_000)
    assert page.locator("#query-rows thead").inner_text().strip() == "EMAIL"
    assert [row.strip() for row in page.locator("#query-rows tbody tr").all_inner_texts()] == emails

    page.click("text=← Query runner")
    assert page.locator("#recent-queries tbody tr").count() == 1
