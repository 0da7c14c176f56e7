"""The idle bound of an upstream body's reads after the first (`_reads.BoundedReads`): one watchdog
timer for all the reads of a response, which cancels only a read that has itself waited `idle`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from aihub_core.errors import UpstreamError, UpstreamTimeoutError
from aihub_core.providers._reads import BoundedReads

IDLE = 0.1


def translate(exc: Exception, first: bool) -> UpstreamError:
    assert isinstance(exc, TimeoutError)
    return UpstreamTimeoutError(f"stalled (first={first})")


async def reads(gaps: list[float]) -> AsyncIterator[bytes]:
    for gap in gaps:
        await asyncio.sleep(gap)
        yield b"x"


def chunks(gaps: list[float]) -> BoundedReads:
    loop = asyncio.get_running_loop()
    return BoundedReads(reads(gaps), loop.time() + 5, IDLE, translate)


async def test_a_slow_reader_is_not_a_stalled_upstream() -> None:
    """Time between reads is the consumer's: only the waits count, each from its own start."""
    body = chunks([0, 0.02, 0.02, 0.02])
    got = []
    async for chunk in body:
        got.append(chunk)
        await asyncio.sleep(IDLE * 1.5)  # the watchdog fires while nothing waits, and stops
    body.close()
    assert len(got) == 4


async def test_many_short_waits_past_the_bound_in_all_do_not_time_out() -> None:
    body = chunks([0] + [IDLE / 4] * 12)  # 0.3 s in all, no wait near 0.1 s
    assert len([chunk async for chunk in body]) == 13
    body.close()


async def test_a_wait_longer_than_the_bound_times_out() -> None:
    body = chunks([0, 0.01, IDLE * 4])
    started = asyncio.get_running_loop().time()
    with pytest.raises(UpstreamTimeoutError, match=r"first=False"):
        async for _ in body:
            pass
    assert asyncio.get_running_loop().time() - started < IDLE * 3
    body.close()


async def test_someone_elses_cancellation_stays_a_cancellation() -> None:
    body = chunks([0, 10])

    async def read_all() -> None:
        async for _ in body:
            pass

    task = asyncio.ensure_future(read_all())
    await asyncio.sleep(IDLE / 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    body.close()
    assert body._watchdog is None
