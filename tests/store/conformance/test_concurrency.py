"""Concurrent ledger writes: all land, retries change nothing, a failing one fails alone."""

from __future__ import annotations

import asyncio

import pytest

from aihub_core.errors import NotFoundError
from aihub_core.store.base import Store, UserRecord
from tests.store.conftest import UsageFactory, UserFactory, pico


async def test_200_concurrent_records_all_land(store: Store, alice: UserRecord, usage: UsageFactory) -> None:
    costs = [0.000001 * (i + 1) / 3 for i in range(200)]
    records = [usage(f"req_{i}", alice.id, cost=cost) for i, cost in enumerate(costs)]
    await asyncio.gather(*(store.record_usage(r) for r in records))
    await asyncio.gather(*(store.record_usage(r) for r in records[:50]))  # retries change nothing
    [day] = await store.daily_usage(alice.id, records[0].created_at.date(), records[0].created_at.date())
    assert day.requests == 200
    assert day.cost_pico_usd == sum(pico(c) for c in costs)


async def test_a_failing_write_among_concurrent_ones_fails_alone(
    store: Store, alice: UserRecord, usage: UsageFactory
) -> None:
    good = [store.record_usage(usage(f"req_{i}", alice.id)) for i in range(5)]
    outcomes = await asyncio.gather(
        *good[:2], store.record_usage(usage("req_ghost", "usr_ghost")), *good[2:], return_exceptions=True
    )
    assert [type(o) for o in outcomes] == [type(None)] * 2 + [NotFoundError] + [type(None)] * 3
    assert await store.count_requests(alice.id, usage("x", alice.id).created_at) == 5


async def test_a_lone_failing_write_is_rolled_back_and_reported(
    store: Store, make_user: UserFactory, usage: UsageFactory
) -> None:
    await store.create_user(make_user("usr_1", "one@example.com"))
    with pytest.raises(NotFoundError):  # alone, with no other write to share a transaction with
        await store.record_usage(usage("req_ghost", "usr_ghost"))
    await store.record_usage(usage("req_1", "usr_1"))  # the store is usable at once
    assert await store.count_requests("usr_1", usage("x", "usr_1").created_at) == 1
    assert await store.count_requests("usr_ghost", usage("x", "usr_ghost").created_at) == 0
