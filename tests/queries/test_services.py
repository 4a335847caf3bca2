"""A running query stops at its next batch once canceled; QUERY_MAX_ROWS bounds what is kept."""

import pytest

from console.queries import services
from console.queries.models import QueryRun

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_running_query_stops_once_canceled(e2e, connection_of, warehouse, monkeypatch):
    monkeypatch.setenv("ENGINE_SHORT_QUEUE", "queries-test-no-worker")
    monkeypatch.setattr(services, "BATCH", 2)
    snowflake = connection_of("snowflake")
    table = warehouse.copy("users", rows=6)
    run = services.start(snowflake, f"SELECT email FROM {table}")
    QueryRun.objects.filter(pk=run.pk).update(cancel_requested=True)  # what cancel() leaves on a running query
    services.run(run.pk)
    run.refresh_from_db()
    assert (run.status, run.error, run.rows) == ("failed", services.CANCELED, [])


def test_at_most_query_max_rows_are_kept(e2e, connection_of, warehouse, monkeypatch, settings):
    monkeypatch.setenv("ENGINE_SHORT_QUEUE", "queries-test-no-worker")
    settings.QUERY_MAX_ROWS = 4
    snowflake = connection_of("snowflake")
    table = warehouse.copy("users", rows=6)
    run = services.start(snowflake, f"SELECT email FROM {table} ORDER BY email")
    services.run(run.pk)
    run.refresh_from_db()
    expected = [row[0] for row in warehouse.execute(f"SELECT email FROM {table} ORDER BY email LIMIT 4")]
    assert run.status == "done" and [row["EMAIL"] for row in run.rows] == expected
