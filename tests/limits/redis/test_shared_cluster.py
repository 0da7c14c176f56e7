"""What a Redis Cluster asks of shared limits: every key of a user in one hash slot (so each
script runs on one node), users spread over the nodes, releases and lease renewals of many users
grouped per slot, a cluster recognised from the URL of any of its nodes, and WatchQuota's
pub/sub connection replaced when it is lost."""

from __future__ import annotations

import asyncio
import logging

import pytest
from redis.asyncio.cluster import RedisCluster

from aihub_core.errors import RateLimitError
from aihub_core.identity import Caller
from aihub_core.limits.plans import Plan
from aihub_core.limits.redis.scripts import Keys
from aihub_core.limits.rules import Grant
from tests.limits.redis.conftest import ON_BOTH, REQUEST, Client, StartAdmitter, chat, flight_members
from tests.limits.redis.local_cluster import LocalCluster

ON_CLUSTER = pytest.mark.parametrize("redis_url", ["cluster"], indirect=True)
USERS = [f"user-{n}" for n in range(30)]
# Every limit of its own, so that every kind of key is written.
PLAN = Plan("p", 100, 100_000, 5, 1000)


def caller(user: str, limit: int | None = 50) -> Caller:
    return Caller(user, PLAN, key_id=f"key-of-{user}", key_requests_per_minute=limit)


@ON_CLUSTER
async def test_a_users_keys_share_one_slot_and_the_users_spread_over_every_node(
    start_admitter: StartAdmitter, redis: Client, prefix: str
) -> None:
    assert isinstance(redis, RedisCluster)
    admitter = await start_admitter()
    for user in USERS:
        grant = await admitter.admit(caller(user), chat(100))
        admitter.release(grant, tokens_used=60)
        await admitter.admit(caller(user), chat(100))  # held: its flight set stays
    await admitter.flush()
    keys = Keys(prefix)
    nodes = set()
    for user in USERS:
        found = [key async for key in redis.scan_iter(match=f"{keys.user(user)}*", count=500)]
        # The user's requests, the key's requests, tokens, flight set, monthly calls:
        assert len(found) == 5, found
        slots = {await redis.cluster_keyslot(key.decode()) for key in found}  # asked of Redis
        assert len(slots) == 1, (user, found)
        nodes |= {str(redis.get_node_from_key(key)) for key in found}
    assert len(nodes) == 3  # thirty users, three nodes: each holds some


@ON_BOTH
async def test_bursts_of_many_users_admit_each_user_exactly_its_limit(start_admitter: StartAdmitter) -> None:
    first, second = await start_admitter(), await start_admitter()

    async def outcome(user: str, n: int) -> str:
        try:
            await (first if n % 2 else second).admit(caller(user, limit=7), REQUEST)
        except RateLimitError as err:
            return err.code
        return "ok"

    outcomes = await asyncio.gather(*(outcome(user, n) for n in range(12) for user in USERS))
    by_user = [outcomes[i :: len(USERS)] for i in range(len(USERS))]
    assert all(o.count("ok") == 7 and o.count("rate_limit_exceeded") == 5 for o in by_user)


@ON_BOTH
async def test_releases_of_many_users_reach_every_users_slot(
    start_admitter: StartAdmitter, redis: Client, prefix: str
) -> None:
    admitter = await start_admitter()
    one_at_a_time = Plan("p", 0, 0, 1, 0)
    grants = await asyncio.gather(*(admitter.admit(Caller(user, one_at_a_time), chat()) for user in USERS))
    for grant in grants:  # queued together: sent grouped by slot (one script call per slot)
        admitter.release(grant)
    await asyncio.wait_for(admitter.flush(), timeout=10)
    assert not any([await flight_members(redis, Keys(prefix).flight(user)) for user in USERS])
    again = await asyncio.gather(*(admitter.admit(Caller(user, one_at_a_time), chat()) for user in USERS))
    assert all(isinstance(grant, Grant) for grant in again)


@ON_BOTH
async def test_stopping_frees_every_slot_still_held(
    start_admitter: StartAdmitter, redis: Client, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    admitter = await start_admitter()
    for user in USERS:
        await admitter.admit(caller(user), chat())
    flights = [Keys(prefix).flight(user) for user in USERS]
    assert all([len(await flight_members(redis, flight)) == 1 for flight in flights])
    with caplog.at_level(logging.WARNING, logger="aihub.limits"):
        await admitter.stop()
    assert not caplog.records  # every release arrived
    assert not any([await flight_members(redis, flight) for flight in flights])


@ON_BOTH
async def test_leases_of_many_users_are_renewed(start_admitter: StartAdmitter) -> None:
    holder, other = await start_admitter(lease=0.3), await start_admitter()
    one_at_a_time = Plan("p", 0, 0, 1, 0)
    for user in USERS:
        await holder.admit(Caller(user, one_at_a_time), chat())
    await asyncio.sleep(1.2)  # four leases: alive only if renewed
    for user in USERS:
        with pytest.raises(RateLimitError) as info:
            await other.admit(Caller(user, one_at_a_time), chat())
        assert info.value.code == "concurrency_limit_exceeded"


@ON_CLUSTER
async def test_a_cluster_is_recognised_from_any_of_its_nodes(
    start_admitter: StartAdmitter, redis_cluster: LocalCluster
) -> None:
    for port in redis_cluster.ports:
        admitter = await start_admitter(f"redis://127.0.0.1:{port}/0")
        assert admitter.cluster
        await admitter.admit(caller("u1", limit=None), REQUEST)
    assert (await admitter.peek(caller("u1", limit=None))).remaining == PLAN.requests_per_minute - 3


@ON_CLUSTER
async def test_a_watcher_hears_again_after_its_pubsub_connection_is_cut(
    start_admitter: StartAdmitter, redis: Client
) -> None:
    assert isinstance(redis, RedisCluster)
    admitting, watching = await start_admitter(), await start_admitter()
    async with watching.watch("u1") as changed:
        # Cut every pub/sub connection of this test's own cluster: the listener's is among them.
        await redis.execute_command("CLIENT KILL", "TYPE", "pubsub", target_nodes=RedisCluster.ALL_NODES)
        await asyncio.wait_for(changed.wait(), timeout=5)  # woken: changes may have gone unheard
        for _ in range(50):  # until the new connection has subscribed, changes are not heard
            changed.clear()
            await admitting.admit(caller("u1"), REQUEST)
            try:
                await asyncio.wait_for(changed.wait(), timeout=0.2)
                break
            except TimeoutError:
                continue
        assert changed.is_set()
