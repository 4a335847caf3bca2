"""A retrying httpx transport for provider sessions.

    http = httpx.Client(base_url=..., transport=RetryingTransport(limiter))

Before each request it asks the optional limiter for the budget (`acquire(cost)`).
A 429 tells the limiter (`rate_limited(retry_after)`, so every worker sharing the
budget pauses), waits the Retry-After and sends again: a 429 is a wait, not a
failure, until the waits add up to more than `max_rate_wait` (then RateLimited).
5xx answers, timeouts and connection errors are retried with exponential
backoff a bounded number of times. 4xx answers are returned as they are.
With a `deadline` (a time.monotonic() value) no attempt, retry or wait outlasts it.
"""

from __future__ import annotations

import time
from typing import Protocol

import httpx

from .base import ConnectionFailed, RateLimited

DEFAULT_RATE_WAIT = 600.0  # seconds of 429 waits before a request gives up


class Limiter(Protocol):
    """What the transport needs of a shared rate limiter (the console's RedisLimiter)."""

    def acquire(self, cost: int = 1) -> float: ...

    def rate_limited(self, retry_after: float) -> None: ...


def retry_after_seconds(response: httpx.Response, default: float = 1.0) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After")))
    except (TypeError, ValueError):
        return default


def place(url: httpx.URL) -> str:
    """host, or host:port when the URL names a port."""
    return url.netloc.decode("ascii", "replace")


class Meter(Protocol):
    """Counts calls; `spend()` raises (CallCapReached) to keep a call over a cap from leaving."""

    def spend(self) -> None: ...


class MeteredTransport(httpx.BaseTransport):
    """Spends one call of the meter on every request it sends, retries included."""

    def __init__(self, meter: Meter, transport: httpx.BaseTransport):
        self.meter = meter
        self.transport = transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.meter.spend()
        return self.transport.handle_request(request)

    def close(self):
        self.transport.close()


class RetryingTransport(httpx.BaseTransport):
    def __init__(self, limiter: Limiter | None = None, *, attempts: int = 4, backoff: float = 0.5,
                 max_backoff: float = 8.0, max_rate_wait: float = DEFAULT_RATE_WAIT,
                 transport: httpx.BaseTransport | None = None, sleep=time.sleep,
                 deadline: float | None = None, clock=time.monotonic):
        self.limiter = limiter
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_rate_wait = max_rate_wait
        self.transport = transport or httpx.HTTPTransport()
        self.sleep = sleep
        self.deadline = deadline
        self.clock = clock
        self.created = clock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        failures = 0
        rate_waited = 0.0
        while True:
            self.clip_timeouts(request)
            if self.limiter is not None:
                self.limiter.acquire(1)
            try:
                response = self.transport.handle_request(request)
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as error:
                failures += 1
                if self.time_left() <= self.delay(failures):
                    raise ConnectionFailed(
                        f"No answer from {place(request.url)} within {self.deadline_seconds:.0f} s: "
                        f"{type(error).__name__}"
                    ) from error
                if failures >= self.attempts:
                    raise ConnectionFailed(
                        f"Could not reach {request.url.host} after {failures} attempts: "
                        f"{type(error).__name__}"
                    ) from error
                self.sleep(self.delay(failures))
                continue
            if response.status_code == 429:
                seconds = retry_after_seconds(response)
                response.read()
                response.close()
                if seconds >= self.time_left():
                    raise RateLimited(
                        f"{request.url.host} answered 429 (Too Many Requests) and asks to wait "
                        f"{seconds:.0f} s, longer than this request may take.", seconds,
                    )
                if rate_waited + seconds > self.max_rate_wait:
                    raise RateLimited(
                        f"{request.url.host} kept answering 429 (Too Many Requests); "
                        f"waited {rate_waited:.0f} s in all.", seconds,
                    )
                rate_waited += seconds
                waited = 0.0
                if self.limiter is not None:
                    self.limiter.rate_limited(seconds)  # every worker on this budget pauses
                    waited = self.limiter.acquire(0) or 0.0  # ... this one included
                if seconds - waited > 0.05:
                    self.sleep(seconds - waited)
                continue
            if response.status_code >= 500 and failures + 1 < self.attempts \
                    and self.delay(failures + 1) < self.time_left():
                failures += 1
                response.read()
                response.close()
                self.sleep(self.delay(failures))
                continue
            return response

    def time_left(self) -> float:
        return float("inf") if self.deadline is None else self.deadline - self.clock()

    @property
    def deadline_seconds(self) -> float:
        """How long the deadline allowed, for messages (measured from this transport's creation)."""
        return self.deadline - self.created

    def clip_timeouts(self, request: httpx.Request):
        """No attempt may wait past the deadline; none starts after it."""
        if self.deadline is None:
            return
        left = self.time_left()
        if left <= 0:
            raise ConnectionFailed(f"No answer from {place(request.url)} within {self.deadline_seconds:.0f} s.")
        timeouts = request.extensions.get("timeout") or {}
        request.extensions["timeout"] = {
            name: left if timeouts.get(name) is None else min(timeouts[name], left)
            for name in ("connect", "read", "write", "pool")
        }

    def delay(self, failures: int) -> float:
        return min(self.max_backoff, self.backoff * 2 ** (failures - 1))

    def close(self):
        self.transport.close()
