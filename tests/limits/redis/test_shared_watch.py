"""WatchQuota's wake-ups across processes: a change counted by one admitter wakes the watchers
of another, for the watched user only, and a watcher's subscription ends with it; on one Redis
and on a Redis Cluster (where the watching process listens on one node and hears every node)."""

from __future__ import annotations

import asyncio

from redis.asyncio.cluster import RedisCluster

from aihub_core.identity import Caller
from aihub_core.limits.plans import BUILTIN_PLANS
from tests.limits.redis.conftest import ON_BOTH, REQUEST, Client, StartAdmitter, chat
from tests.waiting import eventually

FREE = BUILTIN_PLANS["free"]


async def woken(event: asyncio.Event) -> None:
    await asyncio.wait_for(event.wait(), timeout=5)
    event.clear()


@ON_BOTH
async def test_a_change_in_one_process_wakes_the_watchers_of_another(
    start_admitter: StartAdmitter, redis: Client, prefix: str
) -> None:
    admitting, watching = await start_admitter(), await start_admitter()
    channel = f"{prefix}changes:u1"
    async with watching.watch("u1") as mine, watching.watch("u2") as other:
        assert await subscribers(redis, channel) == 1
        await admitting.admit(Caller("u2", FREE), REQUEST)
        await woken(other)
        assert not mine.is_set()  # published one after the other: u2's change woke u2's watcher only
        grant = await admitting.admit(Caller("u1", FREE), chat(100))
        await woken(mine)
        admitting.release(grant, tokens_used=40)
        await woken(mine)
        assert (await watching.budget(Caller("u1", FREE))).tokens_remaining == FREE.tokens_per_minute - 40
        assert not other.is_set()
    await eventually(lambda: no_subscriber(redis, channel), "the subscription ends with its watchers")


async def subscribers(redis: Client, channel: str) -> int:
    """The channel's subscribers (on every node of a cluster: each counts its own)."""
    if not isinstance(redis, RedisCluster):
        return int(dict(await redis.pubsub_numsub(channel))[channel.encode()])
    total = 0
    for node in redis.get_nodes():
        total += int(dict(await redis.pubsub_numsub(channel, target_nodes=node))[channel.encode()])
    return total


async def no_subscriber(redis: Client, channel: str) -> bool:
    return not await subscribers(redis, channel)
