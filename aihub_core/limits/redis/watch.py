"""WatchQuota across processes: a change counted by any process wakes the watchers in every one.

The scripts publish on `{prefix}changes:{user}` whenever they count or release something of that
user (a publish that nobody hears costs Redis next to nothing). Each process holds one pub/sub
connection, subscribed to the channels of the users watched in this process only, and sets their
local events; so the traffic follows the watchers, not the load. A watcher subscribes before its
first snapshot; leaving unsubscribes a moment later, in the listener's task (a cancelled stream's
last block must not wait on Redis). When the connection is lost every watcher is woken: its next
snapshot reads Redis and so reports the outage (a 503), or, once Redis is back, the figures that
changed unheard; and a new connection is opened, subscribed to the same channels (on a Redis
Cluster, on a node picked again: the old one may be gone for good).

The channels are not keys: on a Redis Cluster a PUBLISH on any node reaches the subscribers of
every node, so one connection to any node hears every user.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aihub_core.limits.quota_watch import Watchers
from aihub_core.limits.redis.connection import (
    REDIS_ERRORS,
    SharedRedis,
    limiter_unavailable,
    pause_after_failure,
)
from aihub_core.limits.redis.scripts import Keys


class SharedWatchers:
    """Local events per watched user, set from Redis pub/sub."""

    def __init__(self, redis: SharedRedis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._pubsub = redis.pubsub()
        self._local = Watchers()
        self._subscribed: set[str] = set()
        self._lock = asyncio.Lock()
        self._listening = asyncio.Event()
        self._stale = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the listener (it idles until something is watched)."""
        self._task = asyncio.create_task(self._listen(), name="aihub-shared-limits-watch")

    async def stop(self) -> None:
        """Stop listening and close the pub/sub connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(*REDIS_ERRORS):
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated

    @contextlib.asynccontextmanager
    async def watch(self, user_id: str) -> AsyncIterator[asyncio.Event]:
        """An event set whenever the user's figures change in any process (a 503 if the
        subscription cannot be made)."""
        event = self._local.add(user_id)
        try:
            try:
                await self._sync()
            except REDIS_ERRORS as err:
                raise limiter_unavailable() from err
            yield event
        finally:
            self._local.remove(user_id, event)
            self._stale = True  # the listener leaves the channels nobody here watches any more

    async def _sync(self) -> None:
        """Subscribe to the channels of the users watched here; leave the others."""
        async with self._lock:
            wanted = self._local.users()
            join, leave = wanted - self._subscribed, self._subscribed - wanted
            if join:
                await self._pubsub.subscribe(*(self._keys.channel(u) for u in join))
                self._subscribed |= join
            if leave:
                await self._pubsub.unsubscribe(*(self._keys.channel(u) for u in leave))
                self._subscribed -= leave
            if self._subscribed:
                self._listening.set()
            else:
                self._listening.clear()

    async def _reconnect(self) -> None:
        """Replace the pub/sub connection; the next `_sync` subscribes it to the watched channels."""
        async with self._lock:
            lost, self._pubsub = self._pubsub, self._redis.pubsub()
            self._subscribed = set()
            self._stale = True
        with contextlib.suppress(*REDIS_ERRORS):
            await lost.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated

    async def _listen(self) -> None:
        prefix = self._keys.channel_prefix.encode()
        failures = 0
        while True:
            await self._listening.wait()
            try:
                if self._stale:
                    self._stale = False
                    await self._sync()
                message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            except Exception as err:
                failures += 1
                self._local.wake_all()
                await self._reconnect()
                await pause_after_failure(failures, err, "quota watch")
                continue
            if failures:
                failures = 0
                self._local.wake_all()  # changes made while the connection was down were not heard
            if message is not None:
                channel = message["channel"]
                if isinstance(channel, bytes) and channel.startswith(prefix):
                    self._local.wake(channel[len(prefix) :].decode())
