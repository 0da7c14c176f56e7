"""One gateway process's side of the shared counters: the leases of its calls in flight, and the
releases it queues.

`release` is synchronous, so it runs to the end in a `finally` block even while the request's task
is being cancelled: it only queues. The queue reaches Redis in batches, inside the next admission's
script call (`take`/`sent`: the releases of the admission's shard, see `SharedRedis.shard`) or,
when none comes at once, through one background task, one script call per shard. A batch that
fails is queued again and retried.

The same task renews, every third of the lease, the lease of every slot this process holds (one
`renew.lua` call per shard), which also puts back a slot that others dropped while this process
was cut off from Redis or stalled. `stop` sends what is left and frees the slots still held.

Every call goes through the process's one pipeline (pipeline.py), in the order it was queued: a
renewal queued before a release of the same slot runs before it, so a renewal never brings back
a slot released after it was read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from redis.commands.core import AsyncScript

from aihub_core.limits.redis.connection import pause_after_failure
from aihub_core.limits.redis.pipeline import ScriptPipeline
from aihub_core.limits.redis.scripts import (
    FLIGHT_TTL_SECONDS,
    RELEASE,
    RENEW,
    WINDOW_TTL_SECONDS,
    Keys,
    script_argument,
)

log = logging.getLogger("aihub.limits")

# Releases (or users renewed) per script call: bounds how long one call keeps Redis busy.
MAX_BATCH = 256
# While Redis is away, every failed admission queues a just-in-case release (see `compensate`):
# past this many queued, new ones are dropped. Those that matter are the first ones.
MAX_COMPENSATIONS = 10_000


@dataclass(frozen=True)
class Release:
    """The end of one call: the slot to free ('' none), and the tokens to give back (or add) in
    the minute `window`."""

    user_id: str
    slot: str
    window: int
    tokens_delta: int
    # Per budget the call held: its counter (`spend.counter_name`), the worst case held and the
    # cost charged (pico-USD).
    spend: tuple[tuple[str, int, int], ...] = ()


class Upkeep:
    """Leases and release queue of one instance; `start` before admitting, `stop` at the end."""

    def __init__(
        self,
        pipeline: ScriptPipeline,
        scripts: Callable[[str], AsyncScript],
        keys: Keys,
        shard: Callable[[str], int],
        lease: float,
    ) -> None:
        self._pipeline = pipeline
        self._keys = keys
        self._shard = shard
        self._lease_ms = max(1, round(lease * 1000))
        self._interval = lease / 3
        self._release = scripts(RELEASE)
        self._renew = scripts(RENEW)
        self._pending: dict[int, list[Release]] = {}  # by shard
        self._queued = 0
        self._in_transit = 0
        # The slots this process holds, by user: their leases are renewed (see _renew_leases).
        self._held: dict[str, set[str]] = {}
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    @property
    def lease_ms(self) -> int:
        """How long a slot counts after its admission or its last renewal, in milliseconds."""
        return self._lease_ms

    def start(self) -> None:
        """Start renewing leases and sending releases."""
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
        self._pending.setdefault(self._shard(self._keys.user(release.user_id)), []).append(release)
        self._queued += 1
        self._idle.clear()
        self._wake.set()

    def compensate(self, user_id: str, slot: str) -> None:
        """Queue the removal of a slot an admission may or may not have taken (its answer was lost).

        A command cut off after it was sent may have run: only those at the start of an outage
        can have, so when Redis stays away the queue keeps its oldest and stops growing."""
        if self._queued < MAX_COMPENSATIONS:
            self.release(Release(user_id, slot, 0, 0))

    def take(self, shard: int) -> list[Release]:
        """The next batch of queued releases of one shard, for a script call; report it with `sent`."""
        queued = self._pending.get(shard)
        if not queued:
            return []
        batch = queued[:MAX_BATCH]
        del queued[:MAX_BATCH]
        if not queued:
            del self._pending[shard]
        self._queued -= len(batch)
        self._in_transit += 1
        return batch

    def sent(self, batch: list[Release], delivered: bool) -> None:
        """A batch from `take` reached Redis, or did not and is queued again."""
        if not batch:
            return
        self._in_transit -= 1
        if not delivered:
            shard = self._shard(self._keys.user(batch[0].user_id))
            self._pending[shard] = batch + self._pending.get(shard, [])
            self._queued += len(batch)
            self._wake.set()
        elif not self._queued and not self._in_transit:
            self._idle.set()

    def script_input(self, batch: list[Release]) -> tuple[list[str], list[dict[str, object]]]:
        """The batch as the scripts take it (`apply_releases` in common.lua): two KEYS per release
        and two per budget it held, and the releases' named values."""
        keys: list[str] = []
        releases: list[dict[str, object]] = []
        for release in batch:
            user = release.user_id
            keys += (self._keys.flight(user), self._keys.tokens(release.window, user))
            named: dict[str, object] = {"user": user, "slot": release.slot, "delta": release.tokens_delta}
            if release.spend:
                for counter, _, _ in release.spend:
                    keys += self._keys.budget(user, counter)
                named["spend"] = [[str(held), str(cost)] for _, held, cost in release.spend]
            releases.append(named)
        return keys, releases

    async def flush(self) -> None:
        """Wait until every release queued so far is in Redis (forever while Redis is down)."""
        await self._idle.wait()

    async def stop(self, grace: float = 2.0) -> None:
        """Send the queued releases and free the slots still held (waiting at most `grace` seconds)."""
        for release in [Release(user, slot, 0, 0) for user, slots in self._held.items() for slot in slots]:
            self.release(release)
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            done, _ = await asyncio.wait({self._task}, timeout=grace)
            if not done:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        if self._queued:
            log.warning(
                "shared limits: %d release(s) could not reach Redis; their slots free themselves "
                "when their leases end",
                self._queued,
            )

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_renewal = loop.time() + self._interval
        failures = 0
        while True:
            if not self._queued and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(max(0.0, next_renewal - loop.time())):
                        await self._wake.wait()
            self._wake.clear()
            if self._stopping and not self._queued:
                return
            try:
                if loop.time() >= next_renewal and not self._stopping:
                    await self._renew_leases()
                    next_renewal = loop.time() + self._interval
                await self._flush()
            except Exception as err:
                failures += 1
                await pause_after_failure(failures, err, "lease renewal and releases")
            else:
                if failures:
                    log.info("shared limits: Redis reachable again")
                failures = 0

    async def _renew_leases(self) -> None:
        # Read and queued in one go (no await between): see the module's docstring.
        by_shard: dict[int, list[str]] = {}
        for user_id in self._held:
            by_shard.setdefault(self._shard(self._keys.user(user_id)), []).append(user_id)
        answers: list[asyncio.Future[Any]] = []
        for users in by_shard.values():
            for part in _parts(users):
                argument = {
                    "lease_ms": self._lease_ms,
                    "flight_ttl": FLIGHT_TTL_SECONDS,
                    "slots": [sorted(self._held[user_id]) for user_id in part],
                }
                keys = [self._keys.flight(user_id) for user_id in part]
                answers.append(self._pipeline.submit(self._renew, keys, [script_argument(argument)]))
        await asyncio.gather(*answers)  # the first failure is raised (and the renewal retried)

    def send_releases(self, skip: int | None = None) -> list[asyncio.Future[Any]]:
        """Queue in the pipeline one `release.lua` call per shard with releases waiting (but
        `skip`, the shard of an admission that carries its own); each batch is reported to `sent`
        when its answer arrives. So on a Redis Cluster an admission's pipeline carries the
        releases of other users' slots too, and a call's end costs no round trip of its own."""
        answers: list[asyncio.Future[Any]] = []
        for shard in [shard for shard in self._pending if shard != skip]:
            batch = self.take(shard)
            keys, releases = self.script_input(batch)
            named = {
                "channel_prefix": self._keys.channel_prefix,
                "window_ttl": WINDOW_TTL_SECONDS,
                "releases": releases,
            }
            answer = self._pipeline.submit(self._release, keys, [script_argument(named)])
            answer.add_done_callback(partial(self._answered, batch))
            answers.append(answer)
        return answers

    def _answered(self, batch: list[Release], answer: asyncio.Future[Any]) -> None:
        # Not delivered: sent again next time (or counted by stop).
        self.sent(batch, not answer.cancelled() and answer.exception() is None)

    async def _flush(self) -> None:
        while self._queued:
            answers = self.send_releases()
            if answers:
                await asyncio.wait(answers)  # (cancelled, it leaves them to arrive and be counted)
            for answer in answers:
                if not answer.cancelled() and (error := answer.exception()) is not None:
                    raise error  # for the retry loop


def _parts(users: list[str]) -> list[list[str]]:
    """The users in lists of at most MAX_BATCH."""
    return [users[i : i + MAX_BATCH] for i in range(0, len(users), MAX_BATCH)]
