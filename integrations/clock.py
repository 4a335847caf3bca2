"""The clock that waits on time (token expiry, rate windows, stale heartbeats) are measured by.

Code that waits takes a clock, the real one by default. A test hands it an OffsetClock and
moves time on with `advance` instead of sleeping until a window closes or a token expires.
"""

import threading
import time
from datetime import datetime, timezone


class Clock:
    def time(self) -> float:
        """Seconds since the epoch."""
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), timezone.utc)

    def sleep(self, seconds: float):
        time.sleep(seconds)

    def check(self):
        """Raises when the work timed on this clock must stop (never, for the real one)."""


class OffsetClock(Clock):
    """Real time plus however far `advance` moved it; its sleep moves it on instead of waiting."""

    def __init__(self):
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def sleep(self, seconds: float):
        self.advance(seconds)

    def advance(self, seconds: float):
        self.offset += max(0.0, seconds)


class StoppableClock(Clock):
    """Real time whose waits end early, raising `error()`, once `stop` is set (a canceled run)."""

    def __init__(self, stop: threading.Event, error: type[Exception]):
        self.stop = stop
        self.error = error

    def sleep(self, seconds: float):
        if self.stop.wait(max(0.0, seconds)):
            raise self.error()

    def check(self):
        if self.stop.is_set():
            raise self.error()


SYSTEM_CLOCK = Clock()
