"""Calls to a tenant's warehouse or provider that a web request waits for.

    with probes.slot() as deadline:
        provider_session(connection, deadline=deadline) ...

Each probe must end by its deadline (PROBE_TIMEOUT_SECONDS from now): the callee
passes it to its driver's timeouts. At most PROBE_CONCURRENCY probes run at once
in a process, fewer than the web server's threads, so hosts that never answer
cannot take every thread; one more is refused at once with ProbesBusy.
"""

import math
import threading
import time
from contextlib import contextmanager

from django.conf import settings

from integrations.base import CallCapReached, RateLimited

_lock = threading.Lock()
_slots: dict[int, threading.BoundedSemaphore] = {}


class ProbesBusy(Exception):
    """Every probe slot of this process is taken; try again in `retry_after` seconds."""

    key = "too_many_connection_checks"

    def __init__(self, limit: int, retry_after: int):
        super().__init__(f"{limit} connection checks are already running; try again in {retry_after} seconds.")
        self.retry_after = retry_after


class BudgetBusy(ProbesBusy):
    """The connection's API budget could not serve a probe in time (a 429, not a provider failure)."""

    key = "rate_limited"

    def __init__(self, retry_after: float):
        self.retry_after = max(1, math.ceil(retry_after))
        Exception.__init__(self, "A running sync is using this connection's API budget; "
                                 f"try again in {self.retry_after} seconds.")


def slots() -> threading.BoundedSemaphore:
    limit = settings.PROBE_CONCURRENCY
    with _lock:
        if limit not in _slots:
            _slots[limit] = threading.BoundedSemaphore(limit)
        return _slots[limit]


def deadline() -> float:
    """The time.monotonic() by which a probe starting now must end."""
    return time.monotonic() + settings.PROBE_TIMEOUT_SECONDS


@contextmanager
def slot():
    """A probe slot for the block; yields the deadline the block must keep."""
    semaphore = slots()
    if not semaphore.acquire(blocking=False):
        raise ProbesBusy(settings.PROBE_CONCURRENCY, max(1, round(settings.PROBE_TIMEOUT_SECONDS)))
    try:
        yield deadline()
    except CallCapReached:
        raise
    except RateLimited as error:  # the shared budget or the provider's 429: busy, never broken
        raise BudgetBusy(error.retry_after) from error
    finally:
        semaphore.release()
