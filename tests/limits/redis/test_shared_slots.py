"""Concurrency slots: a crashed process's slots free themselves when their leases end, a live
one's never do (it renews them), and a release survives the cancellation of the call that makes
it; on one Redis and on a Redis Cluster."""

from __future__ import annotations

import asyncio
import signal
import sys
from functools import partial

import pytest

from aihub_core.errors import RateLimitError
from aihub_core.identity import Caller
from aihub_core.limits.plans import BUILTIN_PLANS, Plan
from aihub_core.limits.redis.admitter import RedisAdmitter
from aihub_core.limits.redis.scripts import Keys
from tests.limits.redis.conftest import (
    ON_BOTH,
    Client,
    StartAdmitter,
    chat,
    flight_members,
    lease_ended,
)
from tests.limits.redis.proxy import RedisProxy
from tests.waiting import eventually

FREE = BUILTIN_PLANS["free"]  # 3 concurrent calls, 5,000 tokens per minute
CALLER = Caller("u1", FREE)
TTL = 0.5


async def refused_for_concurrency(admitter: RedisAdmitter) -> bool:
    try:
        grant = await admitter.admit(CALLER, chat())
    except RateLimitError as err:
        assert err.code == "concurrency_limit_exceeded"
        return True
    admitter.release(grant)
    await admitter.flush()
    return False


@ON_BOTH
async def test_a_killed_process_frees_its_slots_when_their_leases_end(
    start_admitter: StartAdmitter, redis: Client, redis_url: str, prefix: str
) -> None:
    module = "tests.limits.redis.crashing_process"
    args = [sys.executable, "-m", module, redis_url, prefix, str(TTL), str(FREE.concurrent_requests)]
    flight = Keys(prefix).flight("u1")
    process = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None
        instance = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode().strip()
        assert instance, "the crashing process did not start"
        survivor = await start_admitter(lease=TTL)
        assert await refused_for_concurrency(survivor)
        await asyncio.sleep(4 * TTL)  # alive, it renews its slots' leases
        assert await refused_for_concurrency(survivor)
        process.send_signal(signal.SIGKILL)
        await process.wait()
        for n in range(1, FREE.concurrent_requests + 1):
            await eventually(partial(lease_ended, redis, flight, f"{instance}:{n}"), "the leases end")
        grants = [await survivor.admit(CALLER, chat()) for _ in range(FREE.concurrent_requests)]
        assert len(grants) == 3 and await refused_for_concurrency(survivor)
        members = await flight_members(redis, flight)
        assert len(members) == 3 and not any(m.startswith(instance) for m in members)  # dropped
    finally:
        if process.returncode is None:
            process.kill()
        await process.communicate()


@ON_BOTH
async def test_a_cancelled_call_still_releases_its_slot_and_tokens(start_admitter: StartAdmitter) -> None:
    admitter = await start_admitter()
    admitted = asyncio.Event()

    async def call() -> None:
        grant = await admitter.admit(CALLER, chat(3000))
        try:
            admitted.set()
            await asyncio.sleep(3600)
        finally:
            admitter.release(grant, tokens_used=1200)

    task = asyncio.create_task(call())
    await admitted.wait()
    assert (await admitter.budget(CALLER)).in_flight == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(admitter.flush(), timeout=5)
    budget = await admitter.budget(CALLER)
    assert (budget.in_flight, budget.tokens_remaining) == (0, 5000 - 1200)


async def test_an_admission_cancelled_while_redis_answers_gives_its_slot_back(
    proxy: RedisProxy, start_admitter: StartAdmitter, redis: Client, prefix: str
) -> None:
    flight = Keys(prefix).flight("u1")
    admitter = await start_admitter(proxy.url)
    proxy.replies.clear()  # the script runs; its answer waits in the relay
    no_quota = Caller("u1", Plan("p", 0, 0, 3, 0))  # (the quota's first load would take two calls)
    admission = asyncio.create_task(admitter.admit(no_quota, chat()))
    await eventually(lambda: redis.exists(flight), "the script ran")
    admission.cancel()
    with pytest.raises(asyncio.CancelledError):
        await admission
    proxy.replies.set()
    await asyncio.wait_for(admitter.flush(), timeout=5)
    assert not await redis.exists(flight)
    assert (await admitter.budget(CALLER)).in_flight == 0


@ON_BOTH
async def test_a_released_slot_is_free_for_the_next_admission_at_once(start_admitter: StartAdmitter) -> None:
    admitter = await start_admitter()
    one_at_a_time = Caller("u1", Plan("p", 0, 0, 1, 0))
    for _ in range(20):  # each release rides with the next admission: never refused
        admitter.release(await admitter.admit(one_at_a_time, chat()))
