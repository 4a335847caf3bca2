"""The SDK's `query_runner` group through strict_sdk against a live server: queries on the demo
warehouse run by the e2e worker, their rows paged, a syntax error refused in the warehouse's words."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from polytomic.errors import BadRequestError, NotFoundError

from console.queries import api as queries_api
from console.queries import services
from console.queries.models import QueryRun
from tests.sdk_strict import strict_sdk

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def client(live_server, api_key):
    return strict_sdk(live_server.url, api_key)


def finished(client, query_id, timeout=60.0, **options):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = client.query_runner.get_query(query_id, **options)
        if answer.data.status in ("done", "failed", "unknown"):
            return answer
        time.sleep(0.2)
    raise AssertionError(f"the query did not finish: {answer}")


def test_a_query_returns_the_warehouse_rows_paged(client, e2e, connection_of, warehouse, monkeypatch):
    snowflake = connection_of("snowflake")
    table = warehouse.copy("users", rows=12)
    expected = [row[0] for row in warehouse.execute(f"SELECT email FROM {table} ORDER BY email")]
    monkeypatch.setattr(queries_api, "PAGE_SIZE", 5)

    started = client.query_runner.run_query(str(snowflake.pk),
                                            query=f"SELECT email, seats FROM {table} ORDER BY email").data
    assert started.status == "created" and started.results is None
    first = finished(client, started.id)
    assert first.data.status == "done" and first.data.fields == ["EMAIL", "SEATS"]
    assert first.data.count == 12 and first.data.expires and first.links.previous is None

    rows, page = list(first.data.results), first
    while page.links.next:
        token = page.links.next.split("page=")[1]
        page = client.query_runner.get_query(started.id, page=token)
        rows += page.data.results
    assert [row["EMAIL"] for row in rows] == expected
    assert page.links.previous and len(page.data.results) == 2


def test_bad_queries_are_400s_and_start_nothing(client, e2e, connection_of, organization):
    snowflake = connection_of("snowflake")
    with pytest.raises(BadRequestError) as raised:
        client.query_runner.run_query(str(snowflake.pk), query="SELECT nosuchcolumn FROM users")
    assert raised.value.body.metadata["errors"][0]["field"] == "query"
    assert "Referenced column \"NOSUCHCOLUMN\" not found" in raised.value.body.message  # the warehouse's words
    with pytest.raises(BadRequestError) as raised:
        client.query_runner.run_query(str(snowflake.pk), query="SELECT * FROM users WHERE")
    assert raised.value.body.metadata["errors"][0]["field"] == "query"
    with pytest.raises(BadRequestError) as raised:
        client.query_runner.run_query(str(snowflake.pk), query="DELETE FROM users")
    assert "Only a SELECT" in raised.value.body.message
    with pytest.raises(BadRequestError):
        client.query_runner.run_query(str(snowflake.pk))
    salesloft = connection_of("salesloft")
    with pytest.raises(BadRequestError) as raised:
        client.query_runner.run_query(str(salesloft.pk), query="SELECT 1")
    assert raised.value.body.metadata["errors"][0]["field"] == "connection_id"
    with pytest.raises(NotFoundError):
        client.query_runner.run_query("00000000-0000-0000-0000-000000000000", query="SELECT 1")
    with pytest.raises(NotFoundError):
        client.query_runner.get_query("00000000-0000-0000-0000-000000000000")
    assert not QueryRun.objects.exists()


def test_results_expire_and_are_cleaned_up(client, e2e, connection_of, live, settings):
    snowflake = connection_of("snowflake")
    started = client.query_runner.run_query(str(snowflake.pk), query="SELECT 1 AS one").data
    assert finished(client, started.id).data.results == [{"ONE": 1}]
    with pytest.raises(BadRequestError) as raised:
        client.query_runner.get_query(started.id, page="forged")
    assert raised.value.body.metadata["errors"][0]["field"] == "page"

    QueryRun.objects.filter(pk=started.id).update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = client.query_runner.get_query(started.id).data
    assert expired.status == "unknown" and expired.results is None
    assert services.expire() == 1
    with pytest.raises(NotFoundError):
        client.query_runner.get_query(started.id)


def test_a_queued_query_can_be_canceled(client, connection_of, e2e, live, monkeypatch):
    monkeypatch.setenv("ENGINE_SHORT_QUEUE", "queries-test-no-worker")  # nobody runs it: it stays queued
    snowflake = connection_of("snowflake")
    started = client.query_runner.run_query(str(snowflake.pk), query="SELECT 1 AS one").data
    canceled = live.delete(f"/api/queries/{started.id}")
    assert canceled.status_code == 200 and canceled.json()["data"]["status"] == "failed"
    services.run(started.id)  # what a worker would do with the message: nothing
    answer = client.query_runner.get_query(started.id).data
    assert answer.status == "failed" and answer.error == services.CANCELED and answer.results is None
