"""While a long Salesloft sync spends the connection's budget on the budget-enforcing
sandbox, target discovery, fields and creating a sync on the same connection each succeed
within 10 s: runs leave them a share of the budget (issue 20).

The sandbox's budget is cut to 80 a minute so 40 demo rows outlast it; the worker of this
test's own queue, and this process, know the same budget and reserve a quarter of it."""

import json
import time

import pytest
from django.conf import settings

from console.engine.ratelimit import redis_client
from console.syncs.models import Sync

from .conftest import QUEUE, Worker
from .test_seed_000 import SEED_000_QUERY, seed_000_sync

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROWS = 40  # about two calls a row: more than the runs' share of a minute's budget
BUDGET = {"ENGINE_RATE_LIMITS": json.dumps({"salesloft": [[80, 60]]}), "ENGINE_INTERACTIVE_SHARE": "0.25"}


@pytest.fixture
def budget_worker(e2e, monkeypatch, worker_env, tmp_path):
    queue = f"{QUEUE}-budget"
    for name, value in {**BUDGET, "ENGINE_QUEUE": queue}.items():
        monkeypatch.setenv(name, value)
    worker = Worker({**worker_env, **BUDGET, "ENGINE_QUEUE": queue}, tmp_path / "worker.log").start()
    yield worker
    worker.stop()


def spent(connection) -> int:
    """Calls counted in the connection's shared budget window (console/engine/ratelimit.py)."""
    return sum(int(n) for n in redis_client(settings.REDIS_URL).hvals(f"ratelimit:{connection.pk}:80/60"))


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_interactive_calls_are_served_while_a_sync_spends_the_budget(
        e2e, budget_worker, connection_of, model_of, warehouse, public_api):
    e2e.settings(salesloft_cost_per_minute=80)
    columns = ["last_activity_date", "plan", "first_name", "last_name", "email"]
    model = model_of(connection_of("snowflake"), SEED_000_QUERY.format(table=warehouse.copy("users", ROWS)), columns)
    sync_id = public_api.create_sync(seed_000_sync(model, connection_of("salesloft")))["id"]
    salesloft = Sync.objects.get(pk=sync_id).target_connection
    execution_id = public_api.start(sync_id)
    deadline = time.monotonic() + 60
    while spent(salesloft) < 60:  # the runs' share (80 less a quarter): the run now waits on the budget
        assert time.monotonic() < deadline, (public_api.execution(sync_id, execution_id), spent(salesloft))
        time.sleep(0.2)

    client = public_api.client
    objects, seconds = timed(lambda: client.get(
        f"/api/connections/{salesloft.pk}/modelsync/targetobjects?refresh=true"))
    assert objects.status_code == 200 and seconds < 10, (objects.content, seconds)
    fields, seconds = timed(lambda: client.get(
        f"/api/connections/{salesloft.pk}/modelsync/target/fields?target=cadence:10&refresh=true"))
    assert fields.status_code == 200 and seconds < 10, (fields.content, seconds)
    other = model_of(connection_of("snowflake"), SEED_000_QUERY.format(table=warehouse.copy("users", 5)), columns)
    created, seconds = timed(lambda: client.post("/api/syncs", seed_000_sync(other, salesloft),
                                                 content_type="application/json"))
    assert created.status_code == 200 and seconds < 10, (created.content, seconds)

    assert public_api.execution(sync_id, execution_id)["status"] == "running"  # the sync was still at it
    public_api.post(f"/api/syncs/{sync_id}/cancel")
