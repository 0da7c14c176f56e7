"""Time as the core reads it: one injectable clock for the wall time, durations and waiting.

Everything in a call's path that reads time (the limits' minute windows, the circuit breakers,
the retry backoff, the ledger's timestamps, token expiry) reads it from the `Clock` the
composition root hands out, so a test can move time and skip waits instead of sleeping.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Where the core reads time from."""

    def time(self) -> float:
        """Seconds since the Unix epoch (wall clock): limit windows, timestamps."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin, never going back: durations, breaker cool-downs."""
        ...

    def now(self) -> datetime:
        """The wall clock as an aware UTC datetime."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` (a retry's backoff)."""
        ...


class SystemClock:
    """The real clock: the operating system's time and the event loop's sleep."""

    def time(self) -> float:
        """Seconds since the Unix epoch."""
        return time.time()

    def monotonic(self) -> float:
        """The operating system's monotonic clock."""
        return time.monotonic()

    def now(self) -> datetime:
        """The current UTC time."""
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        """Really wait."""
        await asyncio.sleep(seconds)
