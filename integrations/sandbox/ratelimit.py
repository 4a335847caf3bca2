"""Rate-limit bookkeeping kept in the store's scratch memory (cleared on reset).

Three primitives, each answering "allowed?" plus what the provider tells the
client, and the per-provider policies built on them.
"""

from __future__ import annotations

import math
from collections import deque


def _bucket(state, key):
    return state.scratch.setdefault(("ratelimit",) + tuple(key), {})


def fixed_window(state, key, budget: int, cost: int = 1, window: float = 60.0) -> tuple[bool, int, float]:
    """A budget spent within a window that opens on the first request after the last one closed.

    Returns (allowed, remaining after this request, seconds until the window closes).
    A refused request costs nothing.
    """
    moment = state.clock.monotonic()
    with state.lock:
        bucket = _bucket(state, key)
        if bucket.get("ends", 0) <= moment:
            bucket.update(ends=moment + window, used=0)
        reset_in = bucket["ends"] - moment
        if bucket["used"] + cost > budget:
            return False, max(0, budget - bucket["used"]), reset_in
        bucket["used"] += cost
        return True, budget - bucket["used"], reset_in


def sliding_window(state, key, limit: int, window: float) -> tuple[bool, float]:
    """At most `limit` requests in any `window` seconds. Returns (allowed, retry_after)."""
    moment = state.clock.monotonic()
    with state.lock:
        bucket = _bucket(state, key)
        log = bucket.setdefault("log", deque())
        while log and log[0] <= moment - window:
            log.popleft()
        if len(log) >= limit:
            return False, log[0] + window - moment
        log.append(moment)
        return True, 0.0


def token_bucket(state, key, rate: float, capacity: float, cost: float = 1) -> tuple[bool, float]:
    """Classic token bucket: `rate` tokens per second up to `capacity`. Returns (allowed, retry_after)."""
    moment = state.clock.monotonic()
    with state.lock:
        bucket = _bucket(state, key)
        tokens = min(capacity, bucket.get("tokens", capacity) + (moment - bucket.get("at", moment)) * rate)
        bucket["at"] = moment
        if tokens < cost:
            bucket["tokens"] = tokens
            return False, (cost - tokens) / rate
        bucket["tokens"] = tokens - cost
        return True, 0.0


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


# -- provider policies --------------------------------------------------------

def salesloft_page_cost(page: int) -> int:
    """Salesloft's deep-paging surcharge: the whole cost of a list request for that page."""
    if page > 500:
        return 30
    if page > 250:
        return 10
    if page > 150:
        return 8
    if page > 100:
        return 3
    return 1


def salesloft(ctx, cost: int = 1, team: str = "team") -> tuple[bool, dict]:
    """Spend `cost` from the team's per-minute budget. Returns (allowed, headers to send)."""
    budget = int(ctx.settings["salesloft_cost_per_minute"])
    allowed, remaining, reset_in = fixed_window(ctx.state, ("salesloft", team), budget, cost)
    headers = {"x-ratelimit-endpoint-cost": str(cost), "x-ratelimit-remaining-minute": str(remaining)}
    if not allowed:
        # Salesloft documents no Retry-After; sending the time to the next window is harmless.
        headers["Retry-After"] = retry_after(reset_in)
    return allowed, headers


def gong(ctx, company: str = "company") -> tuple[bool, dict]:
    """Gong: calls per second and per day for the company. Returns (allowed, headers)."""
    per_second = int(ctx.settings["gong_calls_per_second"])
    per_day = int(ctx.settings["gong_calls_per_day"])
    allowed, wait = sliding_window(ctx.state, ("gong", company, "second"), per_second, 1.0)
    if not allowed:
        return False, {"Retry-After": retry_after(wait)}
    allowed, _, reset_in = fixed_window(ctx.state, ("gong", company, "day"), per_day, 1, 86400.0)
    if not allowed:
        return False, {"Retry-After": retry_after(reset_in)}
    return True, {}


def linkedin_member(ctx, member: str, resource: str) -> tuple[bool, dict]:
    """LinkedIn DMP streaming: per member per minute for `users` or `companies` writes."""
    limit = int(ctx.settings[f"linkedin_{resource}_per_minute"])
    allowed, wait = sliding_window(ctx.state, ("linkedin", member, resource), limit, 60.0)
    return allowed, ({} if allowed else {"Retry-After": retry_after(wait)})
