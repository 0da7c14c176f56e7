"""Limits count in clock-aligned minutes; tests that count within one wait until clear of a boundary."""

from __future__ import annotations

import asyncio
import time


async def clear_of_minute_boundary() -> None:
    """Return at least 5 s before the next minute boundary (waiting past it if needed)."""
    left = 60 - time.time() % 60
    if left < 5:
        await asyncio.sleep(left + 0.1)
