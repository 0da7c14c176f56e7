"""Several processes (admitters on one prefix) admitting at once: exactly min(N, L) pass, and the
monthly counter's first load from the ledger loses no admission; on one Redis and on a Redis
Cluster."""

from __future__ import annotations

import asyncio

import pytest

from aihub_core.errors import RateLimitError
from aihub_core.identity import Caller
from aihub_core.limits.plans import Plan
from aihub_core.limits.redis.admitter import RedisAdmitter
from aihub_core.limits.redis.scripts import Keys
from aihub_core.limits.rules import Demand, Grant
from tests.limits.redis.conftest import ON_BOTH, REQUEST, Client, Ledger, StartAdmitter, chat

LIMIT = 7
CALLS_PER_PROCESS = 15


async def outcome(admitter: RedisAdmitter, caller: Caller, demand: Demand) -> str:
    try:
        await admitter.admit(caller, demand)
    except RateLimitError as err:
        return err.code
    return "ok"


@ON_BOTH
@pytest.mark.parametrize(
    ("caller", "demand", "code"),
    [
        (
            Caller("u1", Plan("p", 0, 0, 0, 0), key_id="k1", key_requests_per_minute=LIMIT),
            REQUEST,
            "rate_limit_exceeded",
        ),
        (Caller("u1", Plan("p", LIMIT, 0, 0, 0)), REQUEST, "rate_limit_exceeded"),
        (Caller("u1", Plan("p", 0, LIMIT * 100, 0, 0)), chat(100), "tokens_rate_limit_exceeded"),
        (Caller("u1", Plan("p", 0, 0, LIMIT, 0)), chat(), "concurrency_limit_exceeded"),
        (Caller("u1", Plan("p", 0, 0, 0, LIMIT)), chat(), "quota_exceeded"),
    ],
    ids=["key requests", "user requests", "tokens", "concurrency", "monthly quota"],
)
async def test_simultaneous_calls_on_two_processes_admit_exactly_the_limit(
    start_admitter: StartAdmitter, caller: Caller, demand: Demand, code: str
) -> None:
    first, second = await start_admitter(), await start_admitter()
    calls = [outcome(p, caller, demand) for p in (first, second) for _ in range(CALLS_PER_PROCESS)]
    outcomes = await asyncio.gather(*calls)
    assert outcomes.count("ok") == LIMIT
    assert outcomes.count(code) == 2 * CALLS_PER_PROCESS - LIMIT


@ON_BOTH
async def test_two_processes_starting_the_monthly_count_at_once_lose_no_admission(
    start_admitter: StartAdmitter, ledger: Ledger, redis: Client, prefix: str
) -> None:
    caller = Caller("u1", Plan("p", 0, 0, 0, 10))
    first, second = await start_admitter(), await start_admitter()
    ledger.count, ledger.gate = 5, asyncio.Event()
    admissions = [asyncio.ensure_future(p.admit(caller, chat())) for p in (first, second)]
    while ledger.calls < 2:  # both found no counter and are reading the ledger
        ledger.called.clear()
        await asyncio.wait_for(ledger.called.wait(), timeout=5)
    ledger.gate.set()
    grants = await asyncio.gather(*admissions)
    assert all(isinstance(g, Grant) for g in grants)
    [quota_key] = [key async for key in redis.scan_iter(match=Keys(prefix).quota("*", "u1"))]
    assert await redis.get(quota_key) == b"7"  # 5 from the ledger, and both admissions
    assert await first.quota_used("u1") == await second.quota_used("u1") == 7
    for _ in range(3):
        await second.admit(caller, chat())
    with pytest.raises(RateLimitError) as info:
        await first.admit(caller, chat())
    assert info.value.code == "quota_exceeded"
    assert ledger.calls == 2  # once started, the counter is Redis's alone
    assert 0 < await redis.ttl(quota_key) <= 24 * 86400 + 86400
