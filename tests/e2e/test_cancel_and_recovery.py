"""Cancel a running execution; SIGKILL its worker mid-run and let another finish it.

The sandbox is told to accept duplicate emails, so a person created twice would
show as two people, and every request is slowed down so that the run is still
going when the test acts.
"""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from console.engine import services

from .conftest import QUEUE, Worker, clear_requests, requests_since_clear
from .test_seed_000 import cadence_sync, people  # noqa: F401  (fixture)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROWS = 30
CREATE_PERSON = "POST /salesloft/v2/people.json"


@pytest.fixture
def slow_salesloft(e2e):
    e2e.settings(salesloft_allow_duplicate_emails=True)
    e2e.faults(latency_ms=120, path="/salesloft/v2/")
    return e2e


def wait_for_progress(public_api, sync_id, execution_id, at_least=5, timeout=60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        execution = public_api.execution(sync_id, execution_id)
        if execution["counts"]["upserts"] >= at_least:
            return execution
        assert execution["status"] in ("queued", "running"), execution
        time.sleep(0.1)
    raise AssertionError(f"no progress: {execution}")


def assert_each_person_once_and_enrolled_once(inspector, emails):
    docs = inspector.docs("salesloft", "people")
    assert sorted(p["email_address"].lower() for p in docs) == sorted(e.lower() for e in emails)
    memberships = [m for m in inspector.docs("salesloft", "cadence_memberships") if m["cadence_id"] == 10]
    assert sorted(m["person_id"] for m in memberships) == sorted(p["id"] for p in docs)
    assert all(m["currently_on_cadence"] for m in memberships)


def test_cancel_stops_a_running_execution_and_the_next_run_finishes_the_job(
        slow_salesloft, cadence_sync, warehouse, public_api, e2e_worker):
    inspector = slow_salesloft
    sync_id, table = cadence_sync(ROWS)
    emails = [r[0] for r in warehouse.execute(f"SELECT email FROM {table}")]
    execution_id = public_api.start(sync_id)
    wait_for_progress(public_api, sync_id, execution_id)

    response = public_api.post(f"/api/syncs/{sync_id}/cancel")
    assert response.status_code == 200 and response.json()["data"]["message"] == "Execution is being canceled."
    canceled = public_api.wait(sync_id, execution_id, worker=e2e_worker)
    assert canceled["status"] == "canceled"
    sent = canceled["counts"]["inserted"]
    assert 5 <= sent < ROWS
    assert len(people(inspector)) == sent  # what was written is what was counted
    log = public_api.client.get(f"/api/syncs/{sync_id}/executions/{execution_id}/consolelog").json()["data"]
    assert "Canceled." in [entry["message"] for entry in log["entries"]]

    inspector.faults(latency_ms=0)
    clear_requests(inspector)
    rest = public_api.run(sync_id)
    assert rest["status"] == "completed"
    assert (rest["counts"]["inserted"], rest["counts"]["unchanged"]) == (ROWS - sent, sent)
    assert requests_since_clear(inspector)["rules"][CREATE_PERSON] == ROWS - sent
    assert_each_person_once_and_enrolled_once(inspector, emails)


@pytest.fixture
def kill_queue(monkeypatch, worker_env, tmp_path):
    """Workers of a queue of this test's own: one to kill, one to finish."""
    queue = f"{QUEUE}-kill"
    monkeypatch.setenv("ENGINE_QUEUE", queue)
    started = []

    def start():
        worker = Worker({**worker_env, "ENGINE_QUEUE": queue}, tmp_path / "worker.log").start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def test_sigkill_mid_run_then_a_restarted_worker_loses_nothing_and_duplicates_nothing(
        slow_salesloft, cadence_sync, warehouse, public_api, kill_queue):
    inspector = slow_salesloft
    sync_id, table = cadence_sync(ROWS)
    emails = [r[0] for r in warehouse.execute(f"SELECT email FROM {table}")]
    clear_requests(inspector)
    first_worker = kill_queue()
    execution_id = public_api.start(sync_id)
    wait_for_progress(public_api, sync_id, execution_id, at_least=8)
    first_worker.kill()

    interrupted = public_api.execution(sync_id, execution_id)
    assert interrupted["status"] == "running" and interrupted["attempt"] == 1
    assert len(people(inspector)) < ROWS

    # The sweep judges staleness by the time it is given: 5 s on, the dead worker's last
    # heartbeat (one a second) is older than ENGINE_STALE_SECONDS=4.
    assert services.sync_runs.sweep(now=timezone.now() + timedelta(seconds=5))["requeued"] == 1
    second_worker = kill_queue()
    finished = public_api.wait(sync_id, execution_id, worker=second_worker)
    assert finished["status"] == "completed", finished
    assert finished["attempt"] == 2
    counts = finished["counts"]
    assert counts["inserted"] + counts["updated"] == ROWS and counts["errored"] == 0
    assert counts["queried"] == ROWS

    # The sandbox's own records: each person created once, enrolled once.
    assert requests_since_clear(inspector)["rules"][CREATE_PERSON] == ROWS
    assert_each_person_once_and_enrolled_once(inspector, emails)

    clear_requests(inspector)
    inspector.faults(latency_ms=0)
    again = public_api.run(sync_id)
    assert again["counts"]["unchanged"] == ROWS
    assert requests_since_clear(inspector)["providers"].get("salesloft", 0) == 0
