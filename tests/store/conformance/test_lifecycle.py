"""Opening and closing: calls before open or after close are refused, close finishes every write
made before it, and a cancelled caller's write is still committed."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from aihub_core.store.base import Durability, StoreOptions
from tests.store.conformance.backends import Backend, opened
from tests.store.conftest import T0, UsageFactory, UserFactory

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


async def test_closed_store_refuses_calls(backend: Backend, t0: datetime) -> None:
    store = backend.store()
    with pytest.raises(RuntimeError, match="not open"):
        await store.get_user("usr_1")
    await store.open()
    with pytest.raises(RuntimeError, match="already open"):
        await store.open()
    await store.close()
    await store.close()
    with pytest.raises(RuntimeError, match="not open"):
        await store.get_user("usr_1")
    assert t0 == T0


async def test_writes_on_a_closed_store_are_refused(usage: UsageFactory, backend: Backend) -> None:
    store = backend.store()
    with pytest.raises(RuntimeError, match="not open"):
        await store.record_usage(usage("req_1", "usr_1"))


async def test_close_finishes_queued_writes(
    backend: Backend, make_user: UserFactory, usage: UsageFactory
) -> None:
    store = backend.store()
    await store.open()
    await store.create_user(make_user("usr_1", "one@example.com"))
    tasks = [asyncio.create_task(store.record_usage(usage(f"req_{i}", "usr_1"))) for i in range(50)]
    await asyncio.sleep(0)  # every task has queued its write
    await store.close()
    await asyncio.gather(*tasks)
    async with opened(backend.store()) as reopened:
        assert await reopened.count_requests("usr_1", EPOCH) == 50


async def test_a_cancelled_caller_still_gets_its_write(
    backend: Backend, make_user: UserFactory, usage: UsageFactory
) -> None:
    async with opened(backend.store()) as store:
        await store.create_user(make_user("usr_1", "one@example.com"))
        task = asyncio.create_task(store.record_usage(usage("req_1", "usr_1")))
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert task.cancelled()
    async with opened(backend.store()) as reopened:
        assert await reopened.count_requests("usr_1", EPOCH) == 1


async def test_a_cancelled_caller_still_gets_its_reservation_committed(
    backend: Backend, make_user: UserFactory, usage: UsageFactory
) -> None:
    async with opened(backend.store(StoreOptions(durability=Durability.DEFERRED))) as store:
        await store.create_user(make_user("usr_1", "one@example.com"))
        record = usage("req_1", "usr_1")
        reservation = replace(record, status="pending", usage_source="none")
        task = asyncio.create_task(store.reserve_usage(reservation))
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert task.cancelled()
    async with opened(backend.store()) as reopened:
        assert await reopened.count_requests("usr_1", record.created_at) == 1
