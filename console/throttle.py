"""Request budgets for people and programs calling the console (not providers).

Reuses the engine's Redis sliding-window limiter. Redis trouble never locks
anyone out: the budget is skipped and the request goes on.
"""

import hashlib
import logging

import redis
from django.conf import settings

from console.engine.ratelimit import RedisLimiter, redis_client
from integrations.base import ConnectionFailed

logger = logging.getLogger(__name__)


def wait_seconds(name: str, limit: int, window_seconds: int) -> float:
    """Takes one unit from the budget `name`; 0 when allowed, else seconds to wait."""
    try:
        limiter = RedisLimiter(redis_client(settings.REDIS_URL), f"throttle:{digest(name)}",
                               [(limit, window_seconds)], max_wait=0, outage_seconds=0)
        return limiter.try_acquire(1)
    except (redis.RedisError, ConnectionFailed):
        logger.warning("Redis unavailable; request budgets are not enforced")
        return 0.0


def hold(name: str, seconds: float):
    """Refuse `name` for `seconds`: `held(name)` answers the time left. For budgets that only
    failures spend, so that a spent one stops the next attempt before it is tried."""
    try:
        redis_client(settings.REDIS_URL).set(f"ratelimit:throttle:hold:{digest(name)}", 1,
                                             px=max(1, int(seconds * 1000)))
    except redis.RedisError:
        logger.warning("Redis unavailable; request budgets are not enforced")


def held(name: str) -> float:
    try:
        left = redis_client(settings.REDIS_URL).pttl(f"ratelimit:throttle:hold:{digest(name)}")
    except redis.RedisError:
        logger.warning("Redis unavailable; request budgets are not enforced")
        return 0.0
    return max(0, left) / 1000


def digest(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:32]


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def minutes(wait: float) -> int:
    return max(1, round(wait / 60))
