"""Run history in Chromium, with runs made in this process (fake rows, a fake target):
the runs table with counts and its chart, a run's counts and record errors searched by
identity, Retry failed records and Run now adding runs. tests/e2e has the same on the real worker."""

import contextlib

import pytest
from django.db import transaction

from console.engine import services
from tests.engine.conftest import data_model, make_sync, target_connection, warehouse  # noqa: F401  (fixtures)
from tests.engine.fakes import FakeTarget, batches
from tests.engine.test_run import people

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REJECTED = "p1@example.com"
MESSAGE = "Email is blocked by the provider (422)"


@pytest.fixture
def runs_here(monkeypatch):
    """Executions run in the process that starts them, as soon as their transaction commits."""
    target = FakeTarget(reject={REJECTED: MESSAGE})
    monkeypatch.setattr(services, "open_rows", lambda sync, n, *_: batches(people(4), 2))
    monkeypatch.setattr(services, "open_writer", lambda sync, *_: target)
    monkeypatch.setattr(services.sync_runs, "heartbeat", lambda *a: contextlib.nullcontext())
    monkeypatch.setattr(services.sync_runs, "enqueue",
                        lambda execution: transaction.on_commit(lambda: services.sync_runs.run(execution.pk)))
    return target


def test_runs_table_chart_run_page_error_search_and_new_runs(signed_in_page, make_sync, runs_here):  # noqa: F811
    sync = make_sync()
    first = services.start_execution(sync)
    page = signed_in_page

    page.goto(f"/syncs/{sync.pk}/runs")
    rows = page.locator("#runs tbody tr")
    assert rows.count() == 1
    cells = rows.first.locator("td").all_inner_texts()
    assert cells[0].strip().lower() == "completed" and cells[1] == "manual"
    # read, inserted, updated, removed, unchanged, rejected, invalid
    assert cells[4:] == ["4", "3", "0", "0", "0", "1", "0"]
    assert page.locator("figure.run-chart svg rect.written").count() == 1

    rows.first.locator("a").click()
    page.wait_for_url(f"**/syncs/{sync.pk}/runs/{first.pk}")
    assert page.locator("#run-status").inner_text().strip().lower() == "completed"
    errors = page.locator("#record-errors tbody tr")
    errors.first.wait_for()
    assert errors.count() == 1
    assert REJECTED in errors.first.inner_text() and MESSAGE in errors.first.inner_text()

    page.fill("#error-search", "p2@example.com")
    page.locator("#run-errors-total", has_text="0").wait_for()
    assert page.locator("#record-errors tbody tr", has_text=REJECTED).count() == 0
    page.fill("#error-search", REJECTED)
    page.locator("#record-errors tbody tr", has_text=REJECTED).wait_for()

    runs_here.reject.clear()  # fixed on the provider's side
    page.click("text=Retry failed records")
    page.locator("#run-status", has_text="Completed").wait_for()
    assert page.url.rstrip("/").split("/")[-1] != str(first.pk), "the retry is a run of its own"

    page.goto(f"/syncs/{sync.pk}/runs")
    page.click("text=Run now")
    page.wait_for_url(f"**/syncs/{sync.pk}/runs/*")
    page.locator("#run-status", has_text="Completed").wait_for()
    page.goto(f"/syncs/{sync.pk}/runs")
    assert page.locator("#runs tbody tr").count() == 3
    newest = page.locator("#runs tbody tr").first.locator("td").all_inner_texts()
    assert newest[4:] == ["4", "0", "0", "0", "4", "0", "0"], "nothing changed, nothing sent"
    assert sorted(runs_here.records) == [f"p{i}@example.com" for i in range(4)], "the retry delivered it"
    assert [str(r.identity) for r in runs_here.sent].count(REJECTED) == 2, "sent once, retried once, then left alone"
