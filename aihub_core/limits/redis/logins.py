"""The failed-login counters (`limits.logins`) in Redis, shared by every process on the prefix.

Keys: `{p}{login}:{name}`, where `name` is the counter's (`address:...`, `pair:...`, `account:...`,
`familiar:...`; accounts appear only as hashes). Each counter's window is the key's expiry, set
by the same transaction that creates it, so no counter outlives its window. The one hash tag
`{login}` puts every counter in one slot of a Redis Cluster, so that transaction (which counts an
address, an account and the pair at once) runs on one node; logins are few, so the one slot is
no hot spot. Redis unreachable
fails closed, like the other limits: a 503 `limiter_unavailable`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from aihub_core.limits.logins import Windows
from aihub_core.limits.redis.connection import REDIS_ERRORS, limiter_unavailable


class RedisLoginCounters:
    """`LoginCounters` on a Redis client this object does not own."""

    def __init__(self, client: Redis | RedisCluster, prefix: str) -> None:
        self._redis = client
        self._prefix = f"{prefix}{{login}}:"

    async def windows(self, keys: Sequence[str]) -> Windows:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.get(self._prefix + key)
                    pipe.pttl(self._prefix + key)
                found = await pipe.execute()
        except REDIS_ERRORS:
            raise limiter_unavailable() from None
        windows: Windows = []
        for count, left_ms in zip(found[::2], found[1::2], strict=True):
            running = count is not None and left_ms > 0
            windows.append((int(count), left_ms / 1000) if running else (0, 0.0))
        return windows

    async def count(self, keys: Sequence[str], window_seconds: float) -> None:
        window_ms = max(1, math.ceil(window_seconds * 1000))
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                for key in keys:
                    # Created with its expiry, then counted, in one transaction: never without one.
                    pipe.set(self._prefix + key, 0, px=window_ms, nx=True)
                    pipe.incr(self._prefix + key)
                await pipe.execute()
        except REDIS_ERRORS:
            raise limiter_unavailable() from None

    async def reset(self, key: str) -> None:
        try:
            await self._redis.delete(self._prefix + key)
        except REDIS_ERRORS:
            raise limiter_unavailable() from None

    async def mark(self, key: str, seconds: float) -> None:
        try:
            await self._redis.set(self._prefix + key, 1, px=max(1, math.ceil(seconds * 1000)))
        except REDIS_ERRORS:
            raise limiter_unavailable() from None
