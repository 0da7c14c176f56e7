"""The auth generation: bumped by exactly the auth-relevant writes, whichever process makes them,
and read without the worker."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from aihub_core.store.sqlite.migrations import MIGRATIONS, apply_migrations
from aihub_core.store.sqlite.store import SQLiteStore
from tests.store.conftest import KeyFactory, UsageFactory, UserFactory


class Statements:
    """A tracer: every statement the store's worker runs."""

    def __init__(self) -> None:
        self.sql: list[str] = []

    def __call__(self, sql: str, params: Any) -> None:
        self.sql.append(sql)


async def test_only_auth_relevant_writes_move_the_generation(
    store: SQLiteStore, make_user: UserFactory, api_key: KeyFactory, usage: UsageFactory
) -> None:
    start = await store.auth_generation()
    # New users and keys, key use and the ledger change nothing a cache holds.
    await store.create_user(make_user("usr_a", "a@example.com"))
    await store.create_api_key(api_key("key_1", "usr_a"))
    await store.create_api_key(api_key("key_2", "usr_a"))
    key = await store.get_api_key_by_hash("hash-key_1")
    assert key is not None
    await store.touch_api_key("key_1", key.created_at + timedelta(minutes=5))
    await store.record_usage(usage("req_1", "usr_a"))
    assert await store.auth_generation() == start

    assert await store.set_plan("A@example.com", "enterprise")
    after_plan = await store.auth_generation()
    assert after_plan != start
    assert await store.delete_api_key("usr_a", "key_1")
    after_delete = await store.auth_generation()
    assert after_delete != after_plan
    # Writes that change nothing (no such user, key already gone) need not move it.
    assert not await store.set_plan("nobody@example.com", "free")
    assert not await store.delete_api_key("usr_a", "key_1")
    assert await store.auth_generation() == after_delete


async def test_another_connections_writes_are_seen_at_once(db_path: Path, make_user: UserFactory) -> None:
    async with SQLiteStore(db_path) as server, SQLiteStore(db_path) as cli:
        await server.create_user(make_user("usr_a", "a@example.com"))
        before = await server.auth_generation()
        assert await cli.set_plan("a@example.com", "professional")
        assert await server.auth_generation() != before
        # A write by any other client of the file, even one that bypasses the store's queries.
        with contextlib.closing(sqlite3.connect(db_path)) as conn, conn:
            moved = await server.auth_generation()
            conn.execute("UPDATE users SET plan = 'free' WHERE id = 'usr_a'")
        assert await server.auth_generation() != moved


async def test_reading_it_costs_the_worker_nothing(db_path: Path, make_user: UserFactory) -> None:
    statements = Statements()
    async with SQLiteStore(db_path, tracer=statements) as store:
        await store.create_user(make_user("usr_a", "a@example.com"))
        statements.sql.clear()
        for _ in range(100):
            await store.auth_generation()
        assert statements.sql == []


async def test_a_memory_store_reads_it_through_the_worker(make_user: UserFactory) -> None:
    async with SQLiteStore(":memory:") as store:
        await store.create_user(make_user("usr_a", "a@example.com"))
        before = await store.auth_generation()
        assert await store.set_plan("a@example.com", "enterprise")
        assert await store.auth_generation() == before + 1


async def test_a_v3_database_gains_the_generation(db_path: Path, make_user: UserFactory) -> None:
    db_path.parent.mkdir(parents=True)
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        assert apply_migrations(Database(conn, execute_plugins=False), MIGRATIONS[:3]) == [1, 2, 3]
        conn.execute("INSERT INTO users VALUES ('usr_1', 'a@example.com', 'h', 'free', '2026-03-01')")
        conn.commit()
    async with SQLiteStore(db_path) as store:
        assert await store.auth_generation() == 0
        assert await store.set_plan("a@example.com", "enterprise")
        assert await store.auth_generation() == 1
