"""Long runs and short tasks travel on separate Celery queues, and each role starts alone."""

import sys
import uuid

import pytest
import redis

from console.engine.queue import task
from console.system.management.commands.runbeat import beat_command
from console.system.management.commands.runweb import gunicorn_command
from console.system.management.commands.runworker import all_queues, worker_command

RUNS = ("engine.run_execution", "bulk.run_execution")
SHORT = ("engine.deliver_event", "engine.send_failure_email", "bulk.send_failure_email", "schemas.refresh",
         "queries.run")
TICKS = ("engine.dispatch_due_syncs", "bulk.dispatch_due_syncs", "engine.sweep", "bulk.sweep", "queries.expire")


@pytest.fixture
def queues(monkeypatch, redis_url):
    """Two queues of this test's own, which no worker consumes; their messages are read from Redis."""
    names = {"runs": f"runs-{uuid.uuid4().hex[:8]}", "short": f"short-{uuid.uuid4().hex[:8]}"}
    monkeypatch.setenv("ENGINE_QUEUE", names["runs"])
    monkeypatch.setenv("ENGINE_SHORT_QUEUE", names["short"])
    client = redis.Redis.from_url(redis_url)
    yield names, client
    client.delete(*names.values())


@pytest.mark.parametrize("name", RUNS + SHORT + TICKS)
def test_each_task_goes_to_its_queue(queues, name):
    names, client = queues
    task(name).apply_async(() if name in TICKS else ("00000000-0000-0000-0000-000000000000",))
    expected, other = (names["runs"], names["short"]) if name in RUNS else (names["short"], names["runs"])
    assert (client.llen(expected), client.llen(other)) == (1, 0)


def test_the_worker_command_consumes_both_queues_unless_told(queues):
    names, _ = queues
    assert all_queues() == f"{names['runs']},{names['short']}"
    command = worker_command(sys.executable, "interactive", 3)
    assert command[command.index("-Q") + 1] == "interactive" and command[command.index("--concurrency") + 1] == "3"


def test_beat_and_web_commands(tmp_path):
    assert beat_command(sys.executable, tmp_path / "schedule")[-2:] == ["-s", str(tmp_path / "schedule")]
    web = gunicorn_command(sys.executable, "127.0.0.1:9000", 2, 8)
    assert web[2] == "gunicorn" and web[web.index("--workers") + 1] == "2" and web[web.index("--threads") + 1] == "8"
