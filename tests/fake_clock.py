"""A core's clock for tests: time runs as it really does, but waiting is free and recorded."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime


class FakeClock:
    """The real time moved forward by what was skipped: a `sleep` (a retry's backoff, a
    provider's Retry-After) returns at once, moves this clock on by what it asked and is kept in
    `slept`; `advance` moves it on by hand (a breaker's cool-down, a minute window)."""

    def __init__(self) -> None:
        self.skipped = 0.0
        self.slept: list[float] = []

    def time(self) -> float:
        """Seconds since the Unix epoch, as the core sees them."""
        return time.time() + self.skipped

    def monotonic(self) -> float:
        """The real monotonic clock plus what was skipped."""
        return time.monotonic() + self.skipped

    def now(self) -> datetime:
        """`time()` as an aware UTC datetime."""
        return datetime.fromtimestamp(self.time(), UTC)

    async def sleep(self, seconds: float) -> None:
        """Record the wait and skip it; other tasks still get a turn."""
        self.slept.append(seconds)
        self.advance(seconds)
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        """Move the clock on by `seconds` without waiting."""
        self.skipped += seconds

    def clear_of_minute_boundary(self, margin: float = 5.0) -> None:
        """Limits count in clock-aligned minutes: when fewer than `margin` seconds are left of
        this one, move on to just past the boundary, so a test counting within one minute is
        not split by it."""
        left = 60 - self.time() % 60
        if left < margin:
            self.advance(left + 0.1)
