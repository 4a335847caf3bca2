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
    digest = hashlib.sha256(name.encode()).hexdigest()[:32]
    try:
        limiter = RedisLimiter(redis_client(settings.REDIS_URL), f"throttle:{digest}",
                               [(limit, window_seconds)], max_wait=0, outage_seconds=0)
        return limiter.try_acquire(1)
    except (redis.RedisError, ConnectionFailed):
        logger.warning("Redis unavailable; request budgets are not enforced")
        return 0.0
