"""The shared limiter against a real Redis, from this process and from two others."""

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from console.engine.ratelimit import BUDGETS, RedisLimiter, limiter_for
from integrations.base import ConnectionFailed, RateLimited
from integrations.clock import OffsetClock
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]

WORKER = """
import json, sys, time
import redis
from console.engine.ratelimit import RedisLimiter
url, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
limiter = RedisLimiter(redis.Redis.from_url(url), name, [(20, 1)], max_wait=60)
print("ready", flush=True)
sys.stdin.readline()
stamps = []
for _ in range(count):
    limiter.acquire()
    stamps.append(time.time())
print(json.dumps(stamps), flush=True)
"""


def limiter(redis_url, windows, **kw):
    return RedisLimiter(redis.Redis.from_url(redis_url), f"test-{uuid.uuid4().hex}", windows, **kw)


def most_in_any_window(stamps, seconds):
    stamps = sorted(stamps)
    best, start = 0, 0
    for end, stamp in enumerate(stamps):
        while stamp - stamps[start] >= seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_the_budget_is_taken_then_the_limiter_waits(redis_url):
    lim = limiter(redis_url, [(5, 1)])
    assert [lim.try_acquire() for _ in range(5)] == [0, 0, 0, 0, 0]
    wait = lim.try_acquire()
    assert 0 < wait <= 1.1
    started = time.monotonic()
    lim.acquire()
    assert 0.5 < time.monotonic() - started <= 1.2


def test_every_window_of_a_budget_counts(redis_url):
    lim = limiter(redis_url, [(100, 1), (3, 60)])
    assert [lim.try_acquire() for _ in range(3)] == [0, 0, 0]
    assert lim.try_acquire() > 50, "the per-minute budget is spent although the per-second one is not"


def test_a_cost_larger_than_one(redis_url):
    lim = limiter(redis_url, [(10, 1)])
    assert lim.try_acquire(cost=8) == 0
    assert lim.try_acquire(cost=3) > 0
    assert lim.try_acquire(cost=2) == 0


def test_a_budget_spent_for_too_long_raises_rate_limited(redis_url):
    lim = limiter(redis_url, [(1, 60)], max_wait=1)
    lim.acquire()
    with pytest.raises(RateLimited) as caught:
        lim.acquire()
    assert caught.value.retry_after > 50


def test_the_limiter_waits_on_its_clock_until_the_wait_would_pass_max_wait(redis_url):
    clock = OffsetClock()
    lim = limiter(redis_url, [(1, 60)], max_wait=120, clock=clock)
    lim.acquire()
    with pytest.raises(RateLimited) as caught:
        lim.acquire()
    # Redis's clock barely moved, so the budget stays spent while the limiter's clock runs on:
    # it waits on its clock for as long as the next wait still ends within max_wait.
    assert 60 <= clock.offset <= 120 < clock.offset + caught.value.retry_after


def test_a_redis_outage_fails_once_its_clock_passes_the_outage_allowance():
    clock = OffsetClock()
    nowhere = redis.Redis(host="127.0.0.1", port=free_port(), retry=Retry(NoBackoff(), 0))
    lim = RedisLimiter(nowhere, "outage", [(5, 1)], outage_seconds=20, clock=clock)
    with pytest.raises(ConnectionFailed, match="unreachable"):
        lim.acquire()
    assert 10 < clock.offset <= 20  # 0.5 s between tries, on its clock


def test_a_429_pauses_every_user_of_the_connection(redis_url):
    name = f"test-{uuid.uuid4().hex}"
    one = RedisLimiter(redis.Redis.from_url(redis_url), name, [(100, 1)])
    other = RedisLimiter(redis.Redis.from_url(redis_url), name, [(100, 1)])
    one.rate_limited(0.6)
    assert 0.4 < other.try_acquire() <= 0.6
    one.pause(0.1)  # a shorter pause does not cut a longer one short
    assert other.try_acquire() > 0.3
    started = time.monotonic()
    other.acquire()
    assert time.monotonic() - started >= 0.35


def test_two_processes_share_one_budget(redis_url):
    name = f"shared-{uuid.uuid4().hex}"
    processes = [
        subprocess.Popen([sys.executable, "-c", WORKER, redis_url, name, "30"], cwd=ROOT,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    for p in processes:
        assert p.stdout.readline().strip() == "ready"
    started = time.time()
    for p in processes:
        p.stdin.write("go\n")
        p.stdin.flush()
    stamps = []
    for p in processes:
        stamps += json.loads(p.stdout.readline())
        p.wait(timeout=30)
    elapsed = max(stamps) - started
    assert len(stamps) == 60
    # 20 a second for both together: 60 calls cannot finish in under two seconds
    assert elapsed >= 1.9
    assert most_in_any_window(stamps, 0.95) <= 20
    assert elapsed < 4.5, "the budget is used, not wasted"


def test_limiters_come_from_the_connection_type(db, organization, settings):
    from console.connections.models import Connection

    salesloft = Connection.objects.create(organization=organization, name="S", type="salesloft")
    unknown = Connection.objects.create(organization=organization, name="P", type="postgresql")
    assert limiter_for(salesloft).windows == BUDGETS["salesloft"] == [(600, 60)]
    assert limiter_for(unknown) is None
    settings.ENGINE_RATE_LIMITS = {"salesloft": [[60, 60]]}
    assert limiter_for(salesloft).windows == [(60, 60)]
