"""A run waiting on its connection's rate budget is canceled within 2 seconds, and a
delete sent right after the cancel succeeds (issue 20).

The test spends the Salesloft connection's whole shared budget (the same Redis the
worker uses) before the run starts, so the run's first Salesloft call waits about a
minute for the window to free up: the cancel lands in the middle of that wait.
"""

import time

import pytest

from console.engine.ratelimit import interactive_limiter
from console.syncs.models import Sync

from .test_seed_000 import cadence_sync  # noqa: F401  (fixture)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def spend_budget(sync_id):
    # the interactive limiter sees the whole budget, the share runs leave to web requests included
    limiter = interactive_limiter(Sync.objects.get(pk=sync_id).target_connection, seconds_left=0)
    for limit, _seconds in limiter.windows:  # what the fixture's own calls left of each window
        taken = 0
        while taken < limit and limiter.try_acquire(1) == 0:
            taken += 1
    assert limiter.try_acquire(1) > 30  # the next call waits for most of a minute


def start_waiting_run(public_api, sync_id) -> str:
    spend_budget(sync_id)
    execution_id = public_api.start(sync_id)
    deadline = time.monotonic() + 30
    while public_api.execution(sync_id, execution_id)["status"] != "running":
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.1)
    time.sleep(1.5)  # into the budget wait
    execution = public_api.execution(sync_id, execution_id)
    assert execution["status"] == "running" and execution["counts"]["upserts"] == 0, execution
    return execution_id


def test_a_run_canceled_mid_wait_is_canceled_within_two_seconds(cadence_sync, public_api, e2e_worker):  # noqa: F811
    sync_id, _table = cadence_sync(10)
    execution_id = start_waiting_run(public_api, sync_id)

    asked = time.monotonic()
    assert public_api.post(f"/api/syncs/{sync_id}/cancel").status_code == 200
    while (status := public_api.execution(sync_id, execution_id)["status"]) != "canceled":
        assert status == "canceling", status
        assert time.monotonic() - asked < 2.0, "still not canceled 2 s after the cancel"
        time.sleep(0.05)
    assert time.monotonic() - asked < 2.0

    assert "Canceled." in log_messages(public_api, sync_id, execution_id)


def log_messages(public_api, sync_id, execution_id, timeout=5.0) -> list[str]:
    """The run's log once its worker has written how it ended."""
    deadline = time.monotonic() + timeout
    while True:
        log = public_api.client.get(f"/api/syncs/{sync_id}/executions/{execution_id}/consolelog").json()["data"]
        messages = [entry["message"] for entry in log["entries"]]
        if "Canceled." in messages or time.monotonic() > deadline:
            return messages
        time.sleep(0.1)


def test_a_delete_right_after_a_cancel_succeeds(cadence_sync, public_api, e2e_worker):  # noqa: F811
    sync_id, _table = cadence_sync(10)
    start_waiting_run(public_api, sync_id)

    assert public_api.post(f"/api/syncs/{sync_id}/cancel").status_code == 200
    deleted = public_api.client.delete(f"/api/syncs/{sync_id}")
    assert deleted.status_code == 200, deleted.content
    assert not Sync.objects.filter(pk=sync_id).exists()
