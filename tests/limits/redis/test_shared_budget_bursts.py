"""A key, a user and a plan budget, each across two cores sharing one SQLite file and one Redis
(`aihub serve --workers 2`): 200 concurrent chats over both shims and both cores' gRPC, half of
them streamed, never settle past it, and each core's /quota equals the ledger to the last digit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from aihub_core.app import Core
from tests.conftest import isolated_settings, make_account, shim_client
from tests.e2e.budget_burst import BUDGET_USD, PLANS, budget_burst
from tests.fake_clock import FakeClock
from tests.limits.redis.conftest import REDIS_URL


@pytest.fixture
async def cores(tmp_path: Path, prefix: str, clock: FakeClock) -> AsyncIterator[tuple[Core, Core]]:
    config = tmp_path / "aihub.toml"
    config.write_text(PLANS, encoding="utf-8")
    settings = isolated_settings(tmp_path, redis_url=REDIS_URL, redis_prefix=prefix, config_path=config)
    first = await Core.start(settings, clock=clock)
    try:
        second = await Core.start(settings, clock=clock)
        try:
            yield first, second
        finally:
            await second.stop(grace=0)
    finally:
        await first.stop(grace=0)


@pytest.mark.parametrize(
    ("scope", "period"), [("key", "day"), ("user", "month"), ("plan", "month")], ids=["key", "user", "plan"]
)
async def test_a_burst_over_two_cores_never_overruns_the_budget(
    cores: tuple[Core, Core], scope: str, period: str
) -> None:
    async with (
        shim_client(cores[0], "in-process") as first,
        shim_client(cores[1], "grpc") as second,
        grpc.aio.insecure_channel(cores[0].address) as one,
        grpc.aio.insecure_channel(cores[1].address) as two,
    ):
        store = cores[0].store
        if scope == "key":
            account = await make_account(first, budget={"limit_usd": BUDGET_USD, "period": "day"})
            assert await store.set_plan(account.email, "unlimited")
        else:
            account = await make_account(first)
            assert await store.set_plan(account.email, "capped" if scope == "plan" else "unlimited")
            if scope == "user":
                assert await store.set_user_budget(account.email, int(BUDGET_USD * 10**12), "month")
        await budget_burst([first, second], account, store, scope=scope, period=period, channels=[one, two])
