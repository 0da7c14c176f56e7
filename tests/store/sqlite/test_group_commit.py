"""Group commit: concurrent ledger writes share a transaction, fail alone, and are durable."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aihub_core.errors import NotFoundError
from aihub_core.store.base import Durability, StoreOptions, UsageRecord, UserRecord
from aihub_core.store.sqlite.store import SQLiteStore

UsageFactory = Callable[..., UsageRecord]
UserFactory = Callable[..., UserRecord]


class BlockingTracer:
    """Records statements and holds the worker thread on its first read of `users` until released,
    so that writes queue up behind it deterministically."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.blocked = threading.Event()
        self.release = threading.Event()

    def __call__(self, sql: str, params: Any) -> None:
        self.statements.append(sql.strip())
        if "FROM users" in sql and not self.release.is_set():
            self.blocked.set()
            self.release.wait(10)

    def count(self, statement: str) -> int:
        return sum(1 for sql in self.statements if sql.startswith(statement))


async def hold_worker(store: SQLiteStore, tracer: BlockingTracer) -> asyncio.Task[UserRecord | None]:
    reader = asyncio.create_task(store.get_user("usr_nobody"))
    assert await asyncio.to_thread(tracer.blocked.wait, 10)
    return reader


async def test_concurrent_writes_share_commits(
    db_path: Path, make_user: UserFactory, usage: UsageFactory
) -> None:
    tracer = BlockingTracer()
    async with SQLiteStore(db_path, tracer=tracer, ledger_batch=64) as store:
        await store.create_user(make_user("usr_1", "one@example.com"))
        reader = await hold_worker(store, tracer)
        writes = [asyncio.create_task(store.record_usage(usage(f"req_{i}", "usr_1"))) for i in range(200)]
        await asyncio.sleep(0)  # every write has queued behind the held worker
        tracer.statements.clear()
        tracer.release.set()
        await asyncio.gather(reader, *writes)
        assert tracer.count("COMMIT") == 4  # 64 + 64 + 64 + 8
        assert tracer.count("BEGIN IMMEDIATE") == 4
        assert tracer.count("INSERT INTO usage_records") == 200
        assert await store.count_requests("usr_1", usage("x", "usr_1").created_at) == 200


@pytest.mark.parametrize(
    ("durability", "level"), [(Durability.DURABLE, "FULL"), (Durability.DEFERRED, "NORMAL")]
)
async def test_a_lone_write_is_committed_at_once(
    db_path: Path, make_user: UserFactory, usage: UsageFactory, durability: Durability, level: str
) -> None:
    statements: list[str] = []
    trace = lambda sql, params: statements.append(sql)  # noqa: E731
    async with SQLiteStore(db_path, StoreOptions(durability=durability), tracer=trace) as store:
        await store.create_user(make_user("usr_1", "one@example.com"))
        statements.clear()
        await store.record_usage(usage("req_1", "usr_1"))
        written = list(statements)  # (closing then ends the store's lease)
    # The ledger's commits fsync (FULL) unless DEFERRED; the connection goes back to NORMAL for
    # every other write.
    assert store.ledger_synchronous == level
    assert [sql.split()[0] for sql in written] == ["PRAGMA", "BEGIN", "INSERT", "COMMIT", "PRAGMA"]
    assert written[0] == f"PRAGMA synchronous = {level}" and written[-1] == "PRAGMA synchronous = NORMAL"


async def test_a_failing_write_fails_alone(
    db_path: Path, make_user: UserFactory, usage: UsageFactory
) -> None:
    tracer = BlockingTracer()
    async with SQLiteStore(db_path, tracer=tracer) as store:
        await store.create_user(make_user("usr_1", "one@example.com"))
        reader = await hold_worker(store, tracer)
        good = [asyncio.create_task(store.record_usage(usage(f"req_{i}", "usr_1"))) for i in range(5)]
        bad = asyncio.create_task(store.record_usage(usage("req_ghost", "usr_ghost")))
        await asyncio.sleep(0)
        tracer.statements.clear()
        tracer.release.set()
        await asyncio.gather(reader, *good)
        with pytest.raises(NotFoundError):
            await bad
        assert tracer.count("COMMIT") == 1
        assert await store.count_requests("usr_1", usage("x", "usr_1").created_at) == 5
