"""Waiting for something to happen in a test: poll a condition, never sleep a guessed time."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable


async def eventually(check: Callable[[], Awaitable[object] | object], what: str, seconds: float = 10) -> None:
    """Wait until `check()` (plain or awaitable) is true; fail naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, f"{what}: not after {seconds} s"
        await asyncio.sleep(0.01)


def within_one_minute(seconds: float) -> None:
    """Return when the next `seconds` fall inside one clock minute (the windows of the
    per-minute limits), waiting for the next minute if they would not: a burst that straddled
    two windows would be admitted twice over."""
    into = time.time() % 60
    if into + seconds > 60:
        time.sleep(60 - into + 0.2)
