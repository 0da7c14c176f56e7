"""One gateway process's side of the shared counters: its heartbeat, and the releases it queues.

`release` is synchronous, so it runs to the end in a `finally` block even while the request's task
is being cancelled: it only queues. The queue reaches Redis in batches, inside the next admission's
script call (`take`/`sent`) or, when none comes at once, through one background task. That task
also refreshes this instance's heartbeat key. A batch that fails is queued again and retried;
`stop` sends what is left, then deletes the heartbeat, which frees at once any slot still counted
for this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from redis.asyncio import Redis

from aihub_core.limits.redis.connection import REDIS_ERRORS, pause_after_failure
from aihub_core.limits.redis.scripts import (
    FLIGHT_TTL_SECONDS,
    RELEASE,
    WINDOW_TTL_SECONDS,
    Keys,
    script_argument,
)

log = logging.getLogger("aihub.limits")

# Releases per script call: bounds how long one call keeps Redis busy.
MAX_BATCH = 256
# While Redis is away, every failed admission queues a just-in-case release (see `compensate`):
# past this many queued, new ones are dropped. Those that matter are the first ones.
MAX_COMPENSATIONS = 10_000


@dataclass(frozen=True)
class Release:
    """The end of one call: the slot to free ('' none) and the tokens to give back (or add)."""

    user_id: str
    slot: str
    tokens_key: str
    tokens_delta: int


class Upkeep:
    """Heartbeat and release queue of one instance; `start` before admitting, `stop` at the end."""

    def __init__(self, client: Redis, keys: Keys, instance_id: str, heartbeat_ttl: float) -> None:
        self._redis = client
        self._keys = keys
        self._heartbeat_key = keys.instance(instance_id)
        self._ttl_ms = max(1, round(heartbeat_ttl * 1000))
        self._interval = heartbeat_ttl / 3
        self._script = client.register_script(RELEASE)
        self._pending: list[Release] = []
        self._in_transit = 0
        self._restoring = False
        # The slots this process holds, by user: put back if others dropped them (see _beat).
        self._held: dict[str, set[str]] = {}
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Write the first heartbeat (raising the Redis error if that fails), then keep it alive."""
        await self._redis.set(self._heartbeat_key, "1", px=self._ttl_ms)
        self._task = asyncio.create_task(self._run(), name="aihub-shared-limits-upkeep")

    def hold(self, user_id: str, slot: str) -> None:
        """An admission took a slot."""
        self._held.setdefault(user_id, set()).add(slot)

    def release(self, release: Release) -> None:
        """Queue a release; it reaches Redis within a round trip while Redis is up."""
        held = self._held.get(release.user_id)
        if held is not None:
            held.discard(release.slot)
            if not held:
                del self._held[release.user_id]
        self._pending.append(release)
        self._idle.clear()
        self._wake.set()

    def compensate(self, user_id: str, slot: str) -> None:
        """Queue the removal of a slot an admission may or may not have taken (its answer was lost).

        A command cut off after it was sent may have run: only those at the start of an outage
        can have, so when Redis stays away the queue keeps its oldest and stops growing."""
        if len(self._pending) < MAX_COMPENSATIONS:
            self.release(Release(user_id, slot, "", 0))

    def take(self) -> list[Release]:
        """The next batch of queued releases, for a script call; report it with `sent`."""
        if self._restoring or not self._pending:
            return []  # (while slots are put back, the releases wait: see _beat)
        batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
        self._in_transit += 1
        return batch

    def sent(self, batch: list[Release], delivered: bool) -> None:
        """A batch from `take` reached Redis, or did not and is queued again."""
        if not batch:
            return
        self._in_transit -= 1
        if not delivered:
            self._pending[:0] = batch
            self._wake.set()
        elif not self._pending and not self._in_transit:
            self._idle.set()

    def script_input(self, batch: list[Release]) -> tuple[list[str], list[dict[str, str | int]]]:
        """The batch as the scripts take it (`apply_releases` in common.lua): two KEYS per release,
        and the releases' named values."""
        keys: list[str] = []
        releases: list[dict[str, str | int]] = []
        for release in batch:
            keys += (self._keys.flight(release.user_id), release.tokens_key)
            releases.append({"user": release.user_id, "slot": release.slot, "delta": release.tokens_delta})
        return keys, releases

    async def flush(self) -> None:
        """Wait until every release queued so far is in Redis (forever while Redis is down)."""
        await self._idle.wait()

    async def stop(self, grace: float = 2.0) -> None:
        """Send the queued releases (waiting at most `grace` seconds), then remove the heartbeat."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            done, _ = await asyncio.wait({self._task}, timeout=grace)
            if not done:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        if self._pending:
            log.warning(
                "shared limits: %d release(s) could not reach Redis; their slots free themselves "
                "when this instance's heartbeat expires",
                len(self._pending),
            )
        with contextlib.suppress(*REDIS_ERRORS):
            await self._redis.delete(self._heartbeat_key)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_beat = loop.time() + self._interval
        failures = 0
        while True:
            if not self._pending and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(max(0.0, next_beat - loop.time())):
                        await self._wake.wait()
            self._wake.clear()
            if self._stopping and not self._pending:
                return
            try:
                if loop.time() >= next_beat:
                    await self._beat()
                    next_beat = loop.time() + self._interval
                await self._flush()
            except Exception as err:
                failures += 1
                await pause_after_failure(failures, err, "heartbeat and releases")
            else:
                if failures:
                    log.info("shared limits: Redis reachable again")
                failures = 0

    async def _beat(self) -> None:
        previous = await self._redis.set(self._heartbeat_key, "1", px=self._ttl_ms, get=True)
        if previous is None and self._held:
            # The heartbeat had lapsed (Redis down, or this process stalled longer than the TTL),
            # so other processes may have dropped this one's slots: put back those still held.
            # Releases queued meanwhile go after this (from this task), never before it.
            log.warning("shared limits: heartbeat lapsed; restoring %d user(s)' slots", len(self._held))
            self._restoring = True
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for user_id, slots in self._held.items():
                        pipe.sadd(self._keys.flight(user_id), *slots)
                        pipe.expire(self._keys.flight(user_id), FLIGHT_TTL_SECONDS)
                    await pipe.execute()
            finally:
                self._restoring = False

    async def _flush(self) -> None:
        while batch := self.take():
            keys, releases = self.script_input(batch)
            argument = script_argument(
                {
                    "channel_prefix": self._keys.channel_prefix,
                    "window_ttl": WINDOW_TTL_SECONDS,
                    "releases": releases,
                }
            )
            delivered = False
            try:
                await self._script(keys, [argument])
                delivered = True
            finally:
                self.sent(batch, delivered)  # not delivered: sent again next time (or counted by stop)
