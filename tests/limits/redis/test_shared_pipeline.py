"""Admissions made at once travel together: one pipeline for a burst, the same decisions, and a
script Redis forgot is loaded again."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from aihub_core.errors import RateLimitError
from aihub_core.identity import Caller
from aihub_core.limits.plans import Plan
from aihub_core.limits.redis.pipeline import ScriptPipeline
from tests.limits.redis.conftest import ON_BOTH, REQUEST, Client, StartAdmitter

BURST = 600
LIMIT = 250


async def test_a_burst_takes_one_connection_and_admits_exactly_the_limit(
    start_admitter: StartAdmitter, redis: Redis
) -> None:
    admitter = await start_admitter()
    caller = Caller("u1", Plan("p", LIMIT, 0, 0, 0))
    clients_before = len(await redis.client_list())

    async def one() -> str:
        try:
            await admitter.admit(caller, REQUEST)
        except RateLimitError as err:
            return err.code
        return "ok"

    results = await asyncio.gather(*(one() for _ in range(BURST)))
    assert results.count("ok") == LIMIT and results.count("rate_limit_exceeded") == BURST - LIMIT
    # Hundreds of calls in flight at once, and the process opened at most one more connection
    # for them (its lease renewals, if any ran meanwhile, take the same pipeline); one each, it
    # opened dozens.
    assert len(await redis.client_list()) <= clients_before + 2


async def test_a_cancelled_caller_leaves_the_rest_of_its_batch_answered(redis: Redis, prefix: str) -> None:
    pipeline = ScriptPipeline(redis)
    script = redis.register_script("return redis.call('INCR', KEYS[1])")
    key = f"{prefix}counter"
    calls = [asyncio.ensure_future(pipeline.call(script, [key], [])) for _ in range(10)]
    await asyncio.sleep(0)  # all ten queued; the first batch is on its way
    calls[3].cancel()
    answers = await asyncio.gather(*calls, return_exceptions=True)
    assert isinstance(answers[3], asyncio.CancelledError)
    others = [a for i, a in enumerate(answers) if i != 3]
    assert all(isinstance(a, int) for a in others) and len(set(others)) == 9  # each its own INCR
    assert int(await redis.get(key) or 0) == 10  # the cancelled call's script still ran


@ON_BOTH
async def test_a_script_redis_forgot_is_loaded_and_run_once(
    start_admitter: StartAdmitter, redis: Client
) -> None:
    admitter = await start_admitter()
    caller = Caller("u1", Plan("p", 3, 0, 0, 0))
    await admitter.admit(caller, REQUEST)
    await redis.script_flush()  # as after a Redis restart
    await asyncio.gather(admitter.admit(caller, REQUEST), admitter.admit(caller, REQUEST))
    state = await admitter.peek(caller)
    assert state.remaining == 0  # three admissions counted, none twice
