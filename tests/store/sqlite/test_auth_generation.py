"""The auth generation on SQLite: bumped by triggers, so even a write that bypasses the store
counts; read without the worker; added to an older database by its migration."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from aihub_core.store.sqlite.migrations import MIGRATIONS, apply_migrations
from aihub_core.store.sqlite.store import SQLiteStore
from tests.store.conftest import UserFactory


class Statements:
    """A tracer: every statement the store's worker runs."""

    def __init__(self) -> None:
        self.sql: list[str] = []

    def __call__(self, sql: str, params: Any) -> None:
        self.sql.append(sql)


async def test_a_write_that_bypasses_the_store_is_seen_at_once(
    store: SQLiteStore, db_path: Path, make_user: UserFactory
) -> None:
    await store.create_user(make_user("usr_a", "a@example.com"))
    # A write by any other client of the file, even one that bypasses the store's queries.
    with contextlib.closing(sqlite3.connect(db_path)) as conn, conn:
        moved = await store.auth_generation()
        conn.execute("UPDATE users SET plan = 'free' WHERE id = 'usr_a'")
    assert await store.auth_generation() != moved


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
