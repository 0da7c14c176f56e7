"""Admission scripts made while others are on their way to Redis go together, in one pipeline.

redis-py gives each command in flight a pooled connection of its own, and a connection stays
taken until the event loop gets round to reading its answer. Under a burst (a thousand streams
opening at once) admissions then queued for connections until the pool's timeout failed them
with 503s. Here at most one pipeline per process is on its way: the calls made meanwhile wait
in a queue and go in the next one, in the order they were made, one round trip for all of them
(as group commit does for the ledger). Each script still runs alone in Redis, so a batch changes
no decision; it only saves round trips, connections and CPU.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

# Calls per pipeline: a burst larger than this goes in several, one after another.
MAX_BATCH = 256


@dataclass(frozen=True)
class _Call:
    script: AsyncScript
    keys: Sequence[str]
    args: Sequence[str | int]
    answer: asyncio.Future[Any]


class ScriptPipeline:
    """Runs script calls in batches, one pipeline on its way at a time."""

    def __init__(self, client: Redis, max_batch: int = MAX_BATCH) -> None:
        self._client = client
        self._max_batch = max_batch
        self._queue: list[_Call] = []
        self._sender: asyncio.Task[None] | None = None

    async def call(self, script: AsyncScript, keys: Sequence[str], args: Sequence[str | int]) -> Any:
        """What the script answers; Redis's error (a RedisError or OSError) if it fails.

        A caller cancelled while its batch is on its way stops waiting; the script may still run."""
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append(_Call(script, keys, args, answer))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_all())
        return await answer

    async def _send_all(self) -> None:
        while self._queue:
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
            try:
                results = await self._send(batch)
            except Exception as err:  # the whole batch is lost with its connection
                results = [err] * len(batch)
            except BaseException:
                for call in batch:
                    call.answer.cancel()
                raise
            for call, result in zip(batch, results, strict=True):
                if call.answer.done():  # its caller was cancelled
                    continue
                if isinstance(result, Exception):
                    call.answer.set_exception(result)
                else:
                    call.answer.set_result(result)

    async def _send(self, batch: list[_Call]) -> list[Any]:
        results = await self._pipeline(batch)
        # A script Redis does not know (it restarted, or SCRIPT FLUSH) did not run: load it and
        # run those calls again. (EVALSHA without redis-py's script registry: that one asks
        # SCRIPT EXISTS before every pipeline, a second round trip.)
        missing = [i for i, result in enumerate(results) if isinstance(result, NoScriptError)]
        if missing:
            for script in {id(batch[i].script): batch[i].script for i in missing}.values():
                await self._client.script_load(script.script)
            again = await self._pipeline([batch[i] for i in missing])
            for i, result in zip(missing, again, strict=True):
                results[i] = result
        return results

    async def _pipeline(self, batch: list[_Call]) -> list[Any]:
        pipe = self._client.pipeline(transaction=False)
        for call in batch:
            pipe.execute_command("EVALSHA", call.script.sha, len(call.keys), *call.keys, *call.args)
        return list(await pipe.execute(raise_on_error=False))
