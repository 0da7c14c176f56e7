"""Commands made while others are on their way to Redis go together, in one pipeline.

redis-py gives each command in flight a pooled connection of its own, and a connection stays
taken until the event loop gets round to reading its answer. Under a burst (a thousand streams
opening at once) admissions then queued for connections until the pool's timeout failed them
with 503s. Here at most one pipeline per process is on its way: the calls made meanwhile wait
in a queue and go in the next one, in the order they were made, one round trip for all of them
(as group commit does for the ledger). Each script still runs alone in Redis, so a batch changes
no decision; it only saves round trips, connections and CPU. Every command of shared limits goes
this way (admissions, releases, lease renewals, and the figures read for WatchQuota), so commands
reach Redis in the order they were queued. On a Redis Cluster, redis-py's pipeline sends each
node its part, in that order, all nodes at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

# Calls per pipeline: a burst larger than this goes in several, one after another.
MAX_BATCH = 256


@dataclass(frozen=True)
class _Call:
    args: tuple[str | int, ...]
    script: AsyncScript | None  # an EVALSHA's script, loaded when Redis does not know it
    answer: asyncio.Future[Any]


class ScriptPipeline:
    """Runs commands, script calls above all, in batches, one pipeline on its way at a time."""

    def __init__(self, client: Redis | RedisCluster, max_batch: int = MAX_BATCH) -> None:
        self._client = client
        self._max_batch = max_batch
        self._queue: list[_Call] = []
        self._sender: asyncio.Task[None] | None = None

    async def call(self, script: AsyncScript, keys: Sequence[str], args: Sequence[str | int]) -> Any:
        """What the script answers; Redis's error (see connection.REDIS_ERRORS) if it fails.

        A caller cancelled while its batch is on its way stops waiting; the script may still run."""
        return await self.submit(script, keys, args)

    async def command(self, *args: str | int) -> Any:
        """What Redis answers to a command (one whose keys are all of one hash slot)."""
        return await self._queued((*args,), None)

    def submit(
        self, script: AsyncScript, keys: Sequence[str], args: Sequence[str | int]
    ) -> asyncio.Future[Any]:
        """Queue a script call now, behind every call queued before; its answer, to await."""
        return self._queued(("EVALSHA", script.sha, len(keys), *keys, *args), script)

    def _queued(self, args: tuple[str | int, ...], script: AsyncScript | None) -> asyncio.Future[Any]:
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append(_Call(args, script, answer))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_all())
        return answer

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
            scripts = {script.sha: script for i in missing if (script := batch[i].script) is not None}
            for script in scripts.values():
                await self._client.script_load(script.script)  # (on every primary of a cluster)
            again = await self._pipeline([batch[i] for i in missing])
            for i, result in zip(missing, again, strict=True):
                results[i] = result
        return results

    async def _pipeline(self, batch: list[_Call]) -> list[Any]:
        pipe = self._client.pipeline(transaction=False)
        for call in batch:
            pipe.execute_command(*call.args)
        return list(await pipe.execute(raise_on_error=False))
