"""An upstream response's raw body reads, each bounded in time: the first by the first-byte
deadline, the later ones (one per streamed event) by the idle bound, with one watchdog timer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp

from aihub_core.errors import UpstreamError


class BoundedReads:
    """A response's raw body reads, each bounded: the first by the first-byte deadline, then by idle.

    The first read runs under `asyncio.timeout_at`. The later ones, one per streamed event, share
    one watchdog timer instead of a timeout each (a Timeout object and a loop timer armed and
    cancelled per read): it fires at the earliest moment a read could have waited `idle`, and
    either cancels the read that has waited that long or re-arms for the one waiting now. Its
    cancellation becomes TimeoutError as asyncio.timeout's does (anyone else's goes on as it
    came). `close` stops the watchdog; a watchdog left running stops at its next firing."""

    def __init__(
        self,
        reads: AsyncIterator[bytes],
        deadline: float,
        idle: float,
        translate: Callable[[Exception, bool], UpstreamError],
    ) -> None:
        self._reads = reads
        self._deadline: float | None = deadline
        self._idle = idle
        self._translate = translate
        self._waiting: tuple[asyncio.Task[Any], float] | None = None  # the read waiting, since when
        self._watchdog: asyncio.TimerHandle | None = None
        self._fired = False

    def __aiter__(self) -> BoundedReads:
        return self

    async def __anext__(self) -> bytes:
        if self._deadline is not None:
            try:
                async with asyncio.timeout_at(self._deadline):
                    chunk = await anext(self._reads)
            except (TimeoutError, aiohttp.ClientError) as exc:
                raise self._translate(exc, True) from exc
            self._deadline = None
            return chunk
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        since = loop.time()
        self._waiting = (task, since)
        if self._watchdog is None:
            self._watchdog = loop.call_at(since + self._idle, self._watch)
        base = task.cancelling()
        try:
            chunk = await anext(self._reads)
        except asyncio.CancelledError:
            if self._fired:
                self._fired = False
                if task.uncancel() <= base:
                    raise self._translate(TimeoutError(), False) from None
            raise
        except aiohttp.ClientError as exc:
            raise self._translate(exc, False) from exc
        finally:
            self._waiting = None
        if self._fired:  # it fired as the read ended: its cancellation is spent, as asyncio.timeout's
            self._fired = False
            task.uncancel()
        return chunk

    def _watch(self) -> None:
        self._watchdog = None
        if self._waiting is None:
            return  # no read waits: the next one arms the watchdog again
        task, since = self._waiting
        loop = asyncio.get_running_loop()
        if loop.time() >= since + self._idle:
            self._fired = True
            task.cancel()
        else:
            self._watchdog = loop.call_at(since + self._idle, self._watch)

    def close(self) -> None:
        """Stop the watchdog (the response is done with)."""
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
