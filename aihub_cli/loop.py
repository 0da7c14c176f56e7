"""The event loop `aihub serve` runs on: uvloop where it is installed, else asyncio's own.

uvloop (libuv, in C) takes about a third off the gateway's CPU per request against the pure
Python loop (docs/benchmarks.md); grpc.aio runs on it. It is a dependency except on Windows,
which it does not support, and `AIHUB_EVENT_LOOP=asyncio` forces the standard loop.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar

from aihub_core.errors import ConfigError

T = TypeVar("T")


def loop_factory(environ: Mapping[str, str] | None = None) -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop's new_event_loop if available (and not turned off), else asyncio's."""
    choice = (os.environ if environ is None else environ).get("AIHUB_EVENT_LOOP", "auto")
    if choice not in ("auto", "uvloop", "asyncio"):
        raise ConfigError(f"AIHUB_EVENT_LOOP must be auto, uvloop or asyncio, not {choice!r}")
    if choice != "asyncio":
        try:
            import uvloop
        except ImportError:
            if choice == "uvloop":
                raise
        else:
            return uvloop.new_event_loop
    return asyncio.new_event_loop


def run_fast(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` to completion on the fastest available event loop."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
