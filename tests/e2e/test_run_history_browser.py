"""Run history in Chromium, with runs made by the real worker: Run now with live progress,
the runs table and its chart, a run's counts, its record errors searched by identity,
and Retry failed records."""

import pytest

from .test_seed_000 import cadence_sync  # noqa: F401  (fixture)

pytestmark = [pytest.mark.worker, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_run_now_then_read_the_history_search_errors_and_retry(
        e2e, cadence_sync, warehouse, signed_in_page):  # noqa: F811
    sync_id, table = cadence_sync(6)
    emails = [row[0] for row in warehouse.execute(f"SELECT email FROM {table} ORDER BY email")]
    [blocked] = e2e.seed("salesloft", "people", [{"email_address": emails[0], "do_not_contact": True}])

    page = signed_in_page
    page.goto(f"/syncs/{sync_id}/runs")
    assert "No runs yet" in page.locator("#runs").inner_text()
    page.click("text=Run now")
    page.wait_for_url(f"**/syncs/{sync_id}/runs/*")
    page.locator("#run-status", has_text="Completed").wait_for(timeout=90_000)  # live progress, no reload

    assert "Retry failed records" in page.content()
    errors = page.locator("#record-errors tbody tr")
    errors.first.wait_for()
    assert errors.count() == 1
    assert emails[0] in errors.first.inner_text()
    assert "person is marked do not contact" in errors.first.inner_text()

    page.fill("#error-search", emails[1])
    page.locator("#run-errors-total", has_text="0").wait_for()
    page.fill("#error-search", emails[0])
    page.locator("#record-errors tbody tr", has_text=emails[0]).wait_for()

    page.click("text=← Runs of")
    rows = page.locator("#runs tbody tr")
    assert rows.count() == 1
    cells = rows.first.locator("td").all_inner_texts()
    assert cells[0].strip().lower() == "completed" and cells[1] == "manual"
    assert cells[4:] == ["6", "5", "0", "0", "0", "1", "0"]  # read, inserted, updated, removed, unchanged, rejected, invalid
    assert page.locator("figure.run-chart svg rect.written").count() == 1

    e2e.seed("salesloft", "people", [{**blocked, "do_not_contact": False}])  # fixed on the Salesloft side
    rows.first.locator("a").click()
    page.click("text=Retry failed records")
    page.locator("#run-status", has_text="Completed").wait_for(timeout=90_000)
    page.goto(f"/syncs/{sync_id}/runs")
    assert page.locator("#runs tbody tr").count() == 2
    newest = page.locator("#runs tbody tr").first.locator("td").all_inner_texts()
    assert newest[9] == "0", "the retried record was accepted"
