"""API budgets shared by every worker: a sliding window per connection, kept in Redis.

Each budget is (limit, window seconds), e.g. Salesloft's 600 cost a minute. One Lua
script checks every window of a connection and takes the cost from all of them
atomically, with Redis's own clock, so any number of worker processes together stay
within the budget. A window is cut into 60 buckets and the script counts one bucket
more than the window covers: it may hold back slightly early, never late.

A 429 teaches the limiter: `pause(retry_after)` stops every worker for that
connection until the provider's Retry-After has passed.
"""

import json
import math
import os
import uuid
from functools import cache

import redis
from django.conf import settings

from integrations import registry
from integrations.base import ConnectionFailed, RateLimited
from integrations.clock import SYSTEM_CLOCK, Clock

from .conf import setting

BUDGETS = registry.budgets()  # per connection type: [(limit, window seconds)], each provider's own
BUCKETS = 60

SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local paused = redis.call('PTTL', KEYS[1])
if paused > 0 then return paused end
local cost = tonumber(ARGV[1])
local wait = 0
local slots = {}
for i = 2, #KEYS do
  local limit = tonumber(ARGV[2 * i - 2])
  local window = tonumber(ARGV[2 * i - 1])
  local slot = math.max(1, math.ceil(window / 60))
  local current = math.floor(now / slot)
  local oldest = current - 60
  slots[i] = current
  local take = math.min(cost, limit)
  local fields = redis.call('HGETALL', KEYS[i])
  local used = 0
  local buckets = {}
  for j = 1, #fields, 2 do
    local bucket = tonumber(fields[j])
    local n = tonumber(fields[j + 1])
    if bucket < oldest then
      redis.call('HDEL', KEYS[i], fields[j])
    else
      used = used + n
      table.insert(buckets, {bucket, n})
    end
  end
  if used + take > limit then
    table.sort(buckets, function(a, b) return a[1] < b[1] end)
    local need = used + take - limit
    local freed = 0
    for _, b in ipairs(buckets) do
      freed = freed + b[2]
      if freed >= need then
        local w = (b[1] + 61) * slot - now
        if w > wait then wait = w end
        break
      end
    end
  end
end
if wait > 0 then return wait end
for i = 2, #KEYS do
  local limit = tonumber(ARGV[2 * i - 2])
  local window = tonumber(ARGV[2 * i - 1])
  redis.call('HINCRBY', KEYS[i], slots[i], math.min(cost, limit))
  redis.call('PEXPIRE', KEYS[i], window + math.max(1, math.ceil(window / 60)) * 2)
end
return 0
"""

PAUSE_SCRIPT = """
local current = redis.call('PTTL', KEYS[1])
if current < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[1])
end
return 1
"""


@cache
def redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)


class RedisLimiter:
    """acquire(cost) blocks until the budget allows the call; pause(seconds) after a 429.
    Redis's clock says how long; `clock` measures and sleeps the waits."""

    def __init__(self, client: redis.Redis, name: str, windows, max_wait: float | None = None,
                 outage_seconds: float | None = None, clock: Clock = SYSTEM_CLOCK, reserve: float = 0.0):
        self.client = client
        self.clock = clock
        self.name = name
        self.windows = [(int(limit), int(seconds)) for limit, seconds in windows]
        self.max_wait = setting("ENGINE_MAX_RATE_WAIT_SECONDS") if max_wait is None else max_wait
        self.outage_seconds = setting("ENGINE_REDIS_OUTAGE_SECONDS") if outage_seconds is None else outage_seconds
        self.keys = [f"ratelimit:{name}:pause"] + [
            f"ratelimit:{name}:{limit}/{seconds}" for limit, seconds in self.windows
        ]
        # the share `reserve` of each window is left to others (runs leave it to interactive calls)
        self.args = [arg for limit, seconds in self.windows
                     for arg in (limit - min(limit - 1, math.ceil(limit * reserve)), seconds * 1000)]
        self.script = client.register_script(SCRIPT)
        self.pause_script = client.register_script(PAUSE_SCRIPT)
        self.waited = 0.0  # seconds spent waiting, over this limiter's life

    def try_acquire(self, cost: int = 1) -> float:
        """0 when the cost was taken; otherwise seconds to wait before asking again."""
        return int(self.call(self.script, keys=self.keys, args=[int(cost), *self.args])) / 1000

    def call(self, script, **arguments):
        """Runs a script, waiting out a Redis restart (the client reconnects on its own)."""
        deadline = self.clock.monotonic() + self.outage_seconds
        while True:
            try:
                return script(**arguments)
            except (redis.ConnectionError, redis.TimeoutError) as error:
                if self.clock.monotonic() >= deadline:
                    raise ConnectionFailed(
                        "Redis, which keeps the API budgets every worker shares, is unreachable: "
                        f"{error}") from error
                self.clock.sleep(0.5)

    def acquire(self, cost: int = 1) -> float:
        started = self.clock.monotonic()
        while True:
            wait = self.try_acquire(cost)
            if wait <= 0:
                waited = self.clock.monotonic() - started
                self.waited += waited
                return waited
            if self.clock.monotonic() - started + wait > self.max_wait:
                raise RateLimited(
                    f"The API budget of this connection is spent for the next {wait:.0f} s.", wait
                )
            self.clock.sleep(min(wait, 5.0))

    def pause(self, seconds: float):
        """Every worker using this connection waits `seconds` (a 429's Retry-After)."""
        ms = max(1, int(seconds * 1000))
        self.call(self.pause_script, keys=[self.keys[0]], args=[ms, uuid.uuid4().hex])

    # The retrying transport calls this on a 429.
    def rate_limited(self, retry_after: float):
        self.pause(retry_after)


def budgets() -> dict:
    configured = os.environ.get("ENGINE_RATE_LIMITS")
    overrides = json.loads(configured) if configured else getattr(settings, "ENGINE_RATE_LIMITS", {})
    return {**BUDGETS, **overrides}


def limiter_for(connection, clock: Clock = SYSTEM_CLOCK) -> RedisLimiter | None:
    """The shared limiter a run uses on one connection, or None when its type has no known budget.
    It leaves ENGINE_INTERACTIVE_SHARE of the budget to interactive calls. A run passes its clock,
    so a cancel ends its waits."""
    windows = budgets().get(connection.type)
    if not windows:
        return None
    # a shared copy spends its parent's budget: the provider counts calls per account, not per organization
    return RedisLimiter(redis_client(settings.REDIS_URL), str(connection.parent_id or connection.pk), windows,
                        clock=clock, reserve=setting("ENGINE_INTERACTIVE_SHARE"))


def interactive_limiter(connection, seconds_left: float) -> RedisLimiter | None:
    """The limiter of a web request's call (discovery, fields, checks, previews): the whole budget,
    the reserved share included, waited on briefly; past that it raises RateLimited."""
    windows = budgets().get(connection.type)
    if not windows:
        return None
    wait = max(0.0, min(setting("ENGINE_INTERACTIVE_WAIT_SECONDS"), seconds_left))
    return RedisLimiter(redis_client(settings.REDIS_URL), str(connection.parent_id or connection.pk), windows,
                        max_wait=wait)
