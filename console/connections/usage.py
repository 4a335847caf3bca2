"""API calls made through each connection, counted in Redis per UTC day and per hour, so
every worker and web process adds to the same figures.

With `enforce_api_limits` and `daily_api_calls` in its configuration, a connection's call
that would pass the day's cap is refused (CallCapReached) before it is sent; the next UTC
day has a fresh budget. Days and hours are read on the clock given (integrations/clock.py).
"""

import logging
from datetime import datetime, timedelta

import redis
from django.conf import settings

from console.engine.ratelimit import redis_client
from integrations.base import CallCapReached, ConnectionFailed
from integrations.clock import SYSTEM_CLOCK, Clock

from .stored import holder

logger = logging.getLogger(__name__)

DAYS_SHOWN = 7
DAY_KEPT = 35 * 86400  # seconds a day's count stays in Redis
HOUR_KEPT = 48 * 3600

# KEYS: the day's count, the hour's count. ARGV: cap (-1: none), day and hour lifetimes.
SPEND = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local cap = tonumber(ARGV[1])
if cap >= 0 and used >= cap then return -1 end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return used + 1
"""


def daily_cap(config: dict) -> int | None:
    """The day's cap of calls when the configuration enforces one."""
    if config.get("enforce_api_limits") and isinstance(config.get("daily_api_calls"), int):
        return config["daily_api_calls"]
    return None


def day_key(connection_id, moment: datetime) -> str:
    return f"usage:{connection_id}:day:{moment:%Y-%m-%d}"


def hour_key(connection_id, moment: datetime) -> str:
    return f"usage:{connection_id}:hour:{moment:%Y-%m-%dT%H}"


class CallMeter:
    """Counts one connection's calls; `spend()` refuses the one that would pass the cap."""

    def __init__(self, connection_id, cap: int | None = None, clock: Clock = SYSTEM_CLOCK):
        self.connection_id = connection_id
        self.cap = cap
        self.clock = clock
        self.client = redis_client(settings.REDIS_URL)
        self.script = self.client.register_script(SPEND)

    def spend(self):
        now = self.clock.now()
        try:
            used = self.script(keys=[day_key(self.connection_id, now), hour_key(self.connection_id, now)],
                               args=[-1 if self.cap is None else self.cap, DAY_KEPT, HOUR_KEPT])
        except redis.RedisError as error:
            if self.cap is not None:
                raise ConnectionFailed("Redis, which keeps this connection's daily count of API calls, is "
                                       f"unreachable, so no call is sent: {error}") from error
            logger.warning("Redis unreachable; a call of connection %s went uncounted: %s", self.connection_id, error)
            return
        if used < 0:
            wait = seconds_to_next_day(now)
            raise CallCapReached(
                f"The daily cap of {self.cap} API calls (daily_api_calls) is spent for today (UTC), so the call "
                f"was not sent. The connection's calls resume with tomorrow's budget, in {wait / 3600:.1f} h.",
                wait)


def seconds_to_next_day(now: datetime) -> float:
    tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (tomorrow - now).total_seconds()


def counts(keys: list[str]) -> list[int]:
    try:
        return [int(value or 0) for value in redis_client(settings.REDIS_URL).mget(keys)]
    except redis.RedisError as error:
        logger.warning("Redis unreachable; API call counts unavailable: %s", error)
        return [0] * len(keys)


def calls_last_24_hours(connection_id, clock: Clock = SYSTEM_CLOCK) -> int:
    """Calls in this hour and the 23 before it."""
    now = clock.now()
    return sum(counts([hour_key(connection_id, now - timedelta(hours=n)) for n in range(24)]))


def connection_calls_last_24_hours(connection) -> int:
    """The last 24 h of the budget this connection spends (a shared copy's is its parent's)."""
    return calls_last_24_hours(connection.parent_id or connection.pk)  # the id alone: no query in a list


def calls_last_24_hours_of(connections, clock: Clock = SYSTEM_CLOCK) -> dict:
    """{connection id: connection_calls_last_24_hours} for a list, read in one round trip."""
    now = clock.now()
    hours = [now - timedelta(hours=n) for n in range(24)]
    values = counts([hour_key(c.parent_id or c.pk, hour) for c in connections for hour in hours])
    return {c.pk: sum(values[24 * n:24 * (n + 1)]) for n, c in enumerate(connections)}


def calls_by_day(connection_id, clock: Clock = SYSTEM_CLOCK, days: int = DAYS_SHOWN) -> list[dict]:
    """[{"day": "2026-12-07", "calls": n}], today first, for the last `days` UTC days."""
    now = clock.now()
    moments = [now - timedelta(days=n) for n in range(days)]
    return [{"day": f"{moment:%Y-%m-%d}", "calls": calls}
            for moment, calls in zip(moments, counts([day_key(connection_id, m) for m in moments]))]


def usage(connection, clock: Clock = SYSTEM_CLOCK) -> dict:
    """What the connection spent and may spend: the last 24 h, each recent day and today's cap."""
    source = holder(connection)  # a shared copy spends under its parent's budget, counted with the parent's calls
    config = source.configuration
    by_day = calls_by_day(source.pk, clock)
    cap = daily_cap(config)
    return {
        "calls_last_24_hours": calls_last_24_hours(source.pk, clock),
        "by_day": by_day,
        "daily_api_calls": config.get("daily_api_calls"),
        "enforced": cap is not None,
        "remaining_today": max(0, cap - by_day[0]["calls"]) if cap is not None else None,
        "as_of": clock.now(),
    }
