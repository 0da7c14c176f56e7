"""The worker thread: every database call runs on it, and the event loop keeps running meanwhile."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aihub_core.store.base import UsageRecord, UserRecord
from aihub_core.store.sqlite.store import SQLiteStore

UsageFactory = Callable[..., UsageRecord]
UserFactory = Callable[..., UserRecord]


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
