"""The worker thread: concurrent calls all land, the loop keeps running, close drains the queue."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aihub_core.store.base import UsageRecord, UserRecord
from aihub_core.store.sqlite.store import SQLiteStore

UsageFactory = Callable[..., UsageRecord]
UserFactory = Callable[..., UserRecord]


async def test_200_concurrent_records_all_land(
    store: SQLiteStore, alice: UserRecord, usage: UsageFactory
) -> None:
    costs = [0.000001 * (i + 1) / 3 for i in range(200)]
    records = [usage(f"req_{i}", alice.id, cost=cost) for i, cost in enumerate(costs)]
    await asyncio.gather(*(store.record_usage(r) for r in records))
    await asyncio.gather(*(store.record_usage(r) for r in records[:50]))  # retries change nothing
    [day] = await store.daily_usage(alice.id, records[0].created_at.date(), records[0].created_at.date())
    assert day.requests == 200
    assert day.cost_usd == math.fsum(costs)


async def test_database_work_runs_on_one_worker_thread(db_path: Path, make_user: UserFactory) -> None:
    threads: set[int] = set()

    def trace(sql: str, params: Any) -> None:
        threads.add(threading.get_ident())

    async with SQLiteStore(db_path, tracer=trace) as store:
        await asyncio.gather(
            *(store.create_user(make_user(f"usr_{i}", f"u{i}@example.com")) for i in range(20))
        )
        await store.get_user("usr_3")
    assert len(threads) == 1
    assert threading.get_ident() not in threads


async def test_a_slow_query_does_not_block_the_loop(db_path: Path) -> None:
    def slow_trace(sql: str, params: Any) -> None:
        if "FROM users" in sql:
            time.sleep(0.3)  # stands in for a long scan, on the worker thread

    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async with SQLiteStore(db_path, tracer=slow_trace) as store:
        task = asyncio.create_task(ticker())
        try:
            assert await store.get_user("usr_1") is None
        finally:
            task.cancel()
    assert ticks >= 5


async def test_close_finishes_queued_writes(
    db_path: Path, make_user: UserFactory, usage: UsageFactory
) -> None:
    store = SQLiteStore(db_path)
    await store.open()
    await store.create_user(make_user("usr_1", "one@example.com"))
    tasks = [asyncio.create_task(store.record_usage(usage(f"req_{i}", "usr_1"))) for i in range(50)]
    await asyncio.sleep(0)  # every task has queued its write
    await store.close()
    await asyncio.gather(*tasks)
    async with SQLiteStore(db_path) as reopened:
        assert await reopened.count_requests("usr_1", datetime(2000, 1, 1, tzinfo=UTC)) == 50


async def test_a_cancelled_caller_still_gets_its_write(
    db_path: Path, make_user: UserFactory, usage: UsageFactory
) -> None:
    async with SQLiteStore(db_path) as store:
        await store.create_user(make_user("usr_1", "one@example.com"))
        task = asyncio.create_task(store.record_usage(usage("req_1", "usr_1")))
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert task.cancelled()
    async with SQLiteStore(db_path) as reopened:
        assert await reopened.count_requests("usr_1", datetime(2000, 1, 1, tzinfo=UTC)) == 1
