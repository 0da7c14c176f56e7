"""Schema migrations: from empty, on re-open, refusing a newer schema, one transaction each."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlite_utils import Database

from aihub_core.store.base import DailyTotals
from aihub_core.store.sqlite.migrations import (
    MIGRATIONS,
    Migration,
    SchemaTooNewError,
    apply_migrations,
    current_version,
    latest_version,
)
from aihub_core.store.sqlite.store import SQLiteStore


def read_schema(path: Path) -> tuple[int, str, set[str]]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    return version, mode, names


async def test_open_migrates_an_empty_database_in_wal_mode(db_path: Path) -> None:
    async with SQLiteStore(db_path):
        pass
    version, mode, names = read_schema(db_path)
    assert version == latest_version() == MIGRATIONS[-1].version
    assert mode == "wal"
    assert {"users", "api_keys", "sessions", "messages", "usage_records", "idempotency_keys"} <= names
    assert {"users_email", "api_keys_key_hash", "usage_records_user_created"} <= names


async def test_reopening_applies_nothing_and_keeps_data(db_path: Path) -> None:
    async with SQLiteStore(db_path) as store:
        assert await store.set_plan("nobody@example.com", "free") is False
    async with SQLiteStore(db_path):
        pass
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        assert apply_migrations(Database(conn, execute_plugins=False)) == []
        assert conn.execute("PRAGMA user_version").fetchone()[0] == latest_version()


async def test_a_newer_schema_is_refused(db_path: Path) -> None:
    async with SQLiteStore(db_path):
        pass
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        conn.execute(f"PRAGMA user_version = {latest_version() + 1}")
    store = SQLiteStore(db_path)
    with pytest.raises(SchemaTooNewError, match="upgrade AI Hub"):
        await store.open()
    with pytest.raises(RuntimeError, match="not open"):
        await store.get_user("usr_1")


def test_each_migration_is_one_transaction(tmp_path: Path) -> None:
    def add_plans(db: Database) -> None:
        db.execute("CREATE TABLE plans (name TEXT PRIMARY KEY)")

    def broken(db: Database) -> None:
        db.execute("CREATE TABLE half_done (x INTEGER)")
        raise RuntimeError("step failed")

    steps = [
        Migration(
            1,
            "things",
            "CREATE TABLE things (id INTEGER PRIMARY KEY); CREATE INDEX things_id ON things (id);",
        ),
        Migration(2, "plans", add_plans),
        Migration(3, "broken", broken),
    ]
    with contextlib.closing(sqlite3.connect(tmp_path / "m.db")) as conn:
        db = Database(conn, execute_plugins=False)
        with pytest.raises(RuntimeError, match="step failed"):
            apply_migrations(db, steps)
        assert current_version(db) == 2
        assert "half_done" not in db.table_names()
        assert {"things", "plans"} <= set(db.table_names())
        assert apply_migrations(db, steps[:2]) == []
        with pytest.raises(SchemaTooNewError):
            apply_migrations(db, steps[:1])


def test_migration_versions_must_be_contiguous(tmp_path: Path) -> None:
    with contextlib.closing(sqlite3.connect(tmp_path / "m.db")) as conn:
        db = Database(conn, execute_plugins=False)
        with pytest.raises(ValueError, match="1, 2, 3"):
            apply_migrations(db, [Migration(1, "a", "SELECT 1;"), Migration(3, "b", "SELECT 1;")])
        assert current_version(db) == 0


async def test_open_creates_the_parent_directory(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "aihub.db"
    async with SQLiteStore(path):
        pass
    assert path.is_file()


async def test_v1_ledger_migrates_to_v2_keeping_its_rows(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        assert apply_migrations(Database(conn, execute_plugins=False), MIGRATIONS[:1]) == [1]
        conn.execute("INSERT INTO users VALUES ('usr_1', 'a@example.com', 'h', 'free', '2026-03-01')")
        for request_id, status, cost in (("req_ok", "ok", 0.1), ("req_refused", "refused", 0.0)):
            conn.execute(
                "INSERT INTO usage_records VALUES (?, 'usr_1', 'key_1', 'openrouter', 'm', 3, 4, ?, ?, "
                "'provider', 'session_1', 12, '2026-03-02T10:00:00.000000+00:00')",
                [request_id, cost, status],
            )
        conn.commit()
    async with SQLiteStore(db_path):
        pass
    version, _, names = read_schema(db_path)
    assert version == latest_version()  # v1 -> v2 (and on through any later steps)
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("SELECT role FROM users").fetchall() == [("user",)]  # v10: roles
    assert {"usage_records_user_created", "usage_records_pending"} <= names
    assert "usage_records_v2" not in names
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        rows = conn.execute(
            "SELECT request_id, key_id, prompt_tokens, completion_tokens, cost_pico_usd, status, session_id, "
            "response_time_ms, created_at = settled_at, recovered FROM usage_records ORDER BY request_id"
        ).fetchall()
        assert rows == [
            ("req_ok", "key_1", 3, 4, 100_000_000_000, "ok", "session_1", 12, 1, 0),
            ("req_refused", "key_1", 3, 4, 0, "refused", "session_1", 12, 1, 0),
        ]
        # The rebuilt table keeps its checks: a pending row has no settled_at, a settled one has.
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            conn.execute("UPDATE usage_records SET status = 'pending' WHERE request_id = 'req_ok'")
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            conn.execute("UPDATE usage_records SET status = 'bogus' WHERE request_id = 'req_ok'")
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            conn.execute("UPDATE usage_records SET user_id = 'usr_ghost' WHERE request_id = 'req_ok'")


async def test_v5_costs_become_exact_pico_usd_and_the_daily_rollup_is_backfilled(db_path: Path) -> None:
    """A ledger of REAL costs (float noise included) migrates to integer pico-USD, each the nearest
    to the double's exact value, and the reports then read a rollup equal to the ledger's sums."""
    db_path.parent.mkdir(parents=True)
    ledger = [
        # request id, status, cost as the old gateway stored it, created_at
        ("r1", "ok", 4.9999999999999996e-05, "2026-03-02T10:00:00.000000+00:00"),
        ("r2", "ok", 0.0016750000000000003, "2026-03-02T23:59:59.999999+00:00"),
        ("r3", "cancelled", 0.1, "2026-03-03T00:00:00.000000+00:00"),
        ("r4", "error", 0.0, "2026-03-03T08:00:00.000000+00:00"),
        ("r5", "refused", 0.0, "2026-03-03T09:00:00.000000+00:00"),
        ("r6", "ok", 1234.5678901234567, "2026-03-04T09:00:00.000000+00:00"),
    ]
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        assert apply_migrations(Database(conn, execute_plugins=False), MIGRATIONS[:5]) == [1, 2, 3, 4, 5]
        conn.execute("INSERT INTO users VALUES ('usr_1', 'a@example.com', 'h', 'free', '2026-03-01')")
        for request_id, status, cost, at in ledger:
            conn.execute(
                "INSERT INTO usage_records (request_id, user_id, service, model, prompt_tokens, "
                "completion_tokens, cost_usd, status, usage_source, created_at, settled_at) "
                "VALUES (?, 'usr_1', 'openrouter', 'm', 3, 4, ?, ?, 'provider', ?, ?)",
                [request_id, cost, status, at, at],
            )
        conn.execute(
            "INSERT INTO usage_records (request_id, user_id, service, model, prompt_tokens, "
            "completion_tokens, cost_usd, status, usage_source, created_at) VALUES ('r7', 'usr_1', "
            "'openrouter', 'm', 0, 0, 0.0, 'pending', 'none', '2026-03-03T10:00:00.000000+00:00')"
        )
        conn.commit()
    async with SQLiteStore(db_path) as store:
        days = await store.daily_usage("usr_1", date(2026, 3, 1), date(2026, 3, 31))
        assert (
            await store.count_requests("usr_1", datetime(2026, 3, 1, tzinfo=UTC)) == 6
        )  # 5 billable, 1 pending
        assert await store.count_requests("usr_1", datetime(2026, 3, 3, 8, tzinfo=UTC)) == 3
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        costs = dict(conn.execute("SELECT request_id, cost_pico_usd FROM usage_records").fetchall())
        columns = {row[1] for row in conn.execute("PRAGMA table_info(usage_records)")}
    assert "cost_usd" not in columns
    assert costs == {
        "r1": 50_000_000,  # 5e-05 exactly: the noise was below a pico-USD
        "r2": 1_675_000_000,
        "r3": 100_000_000_000,
        "r4": 0,
        "r5": 0,
        "r6": 1_234_567_890_123_457,  # the double is 1234.56789012345666...: to the nearest pico
        "r7": 0,
    }
    assert days == [
        DailyTotals(date(2026, 3, 2), requests=2, tokens=14, cost_pico_usd=1_725_000_000),
        DailyTotals(date(2026, 3, 3), requests=2, tokens=14, cost_pico_usd=100_000_000_000),
        DailyTotals(date(2026, 3, 4), requests=1, tokens=7, cost_pico_usd=1_234_567_890_123_457),
    ]
    assert days[0].cost_usd == 0.001725


async def test_the_rollup_triggers_test_the_status_without_in_lists(db_path: Path) -> None:
    """SQLite builds a temporary b-tree for an `IN` list of more than two constants each time a
    trigger fires; the rollup's triggers compare with `=` and still count exactly the billable
    rows: an inserted billable row, a pending row settled billable, never a refused one."""
    async with SQLiteStore(db_path):
        pass
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        triggers = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall())
        assert " IN " not in triggers["usage_daily_insert"].upper()
        assert " IN " not in triggers["usage_daily_settle"].upper()
        conn.execute(
            "INSERT INTO users (id, email, password_hash, plan, created_at) "
            "VALUES ('usr_1', 'a@example.com', 'h', 'free', '2026-03-01')"
        )
        insert = (
            "INSERT INTO usage_records (request_id, user_id, service, model, prompt_tokens, "
            "completion_tokens, cost_pico_usd, status, usage_source, created_at, settled_at) "
            "VALUES (?, 'usr_1', 's', 'm', 1, 2, 5, ?, 'provider', '2026-03-02T10:00:00+00:00', ?)"
        )
        for request_id, status in [("a", "ok"), ("b", "error"), ("c", "cancelled"), ("d", "refused")]:
            conn.execute(insert, [request_id, status, "2026-03-02T10:00:01+00:00"])
        for request_id in ("e", "f", "g"):
            conn.execute(insert, [request_id, "pending", None])
        settle = (
            "UPDATE usage_records SET status = ?, settled_at = '2026-03-02T10:00:02+00:00' "
            "WHERE request_id = ?"
        )
        conn.execute(settle, ["ok", "e"])
        conn.execute(settle, ["refused", "f"])
        conn.execute(settle, ["ok", "a"])  # not pending: already counted
        rollup = conn.execute("SELECT day, requests, tokens, cost_pico_usd FROM usage_daily").fetchall()
    assert rollup == [("2026-03-02", 4, 12, 20)]


_LEDGER_ROW = (
    "INSERT INTO usage_records (request_id, user_id, key_id, service, model, prompt_tokens, "
    "completion_tokens, cost_pico_usd, status, usage_source, created_at, settled_at, owner) "
    "VALUES (?, 'usr_1', 'key_1', 's', 'm', 3, 4, 7, ?, ?, '2026-03-02T10:00:00+00:00', ?, ?)"
)


async def test_v12_ledger_is_rebuilt_with_checks_without_in_lists_keeping_everything(db_path: Path) -> None:
    """Migration 12 rebuilds the ledger with CHECKs that compare with `=` (an `IN` list of more
    than two constants costs a temporary b-tree on every write): rows, indexes, triggers and
    what the CHECKs refuse are as before."""
    db_path.parent.mkdir(parents=True)
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        apply_migrations(Database(conn, execute_plugins=False), MIGRATIONS[:11])
        # What another migration before this one might have added to the ledger is kept too.
        conn.execute("ALTER TABLE usage_records ADD COLUMN note TEXT")
        conn.execute("CREATE INDEX usage_records_note ON usage_records (note)")
        conn.execute(
            "INSERT INTO users (id, email, password_hash, plan, created_at) "
            "VALUES ('usr_1', 'a@example.com', 'h', 'free', '2026-03-01')"
        )
        conn.execute(_LEDGER_ROW, ["r1", "ok", "provider", "2026-03-02T10:00:01+00:00", None])
        conn.execute(_LEDGER_ROW, ["r2", "pending", "none", None, "proc-a"])
        conn.execute("UPDATE usage_records SET note = 'kept' WHERE request_id = 'r1'")
        conn.commit()
        before = conn.execute("SELECT * FROM usage_records ORDER BY request_id").fetchall()
        indexes = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'usage_records'")
        }
        assert {"usage_records_note", "usage_records_pending_owner", "usage_daily_settle"} <= indexes
    async with SQLiteStore(db_path):
        pass
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("SELECT * FROM usage_records ORDER BY request_id").fetchall() == before
        after = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'usage_records'")
        }
        assert after == indexes | {"usage_records_key_created"}  # migration 13 adds that one
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        ledger = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'usage_records'").fetchone()[0]
        assert "status IN" not in ledger and "usage_source IN" not in ledger
        plan = [row[1] for row in conn.execute("EXPLAIN " + _LEDGER_ROW, ["r3", "ok", "provider", "x", None])]
        assert "OpenEphemeral" not in plan
        for status, source in [("bogus", "provider"), ("ok", "bogus")]:
            with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
                conn.execute(_LEDGER_ROW, ["r4", status, source, "2026-03-02T10:00:02+00:00", None])
        conn.execute(
            "UPDATE usage_records SET status = 'ok', settled_at = '2026-03-02T10:00:03+00:00' "
            "WHERE request_id = 'r2'"
        )
        rollup = conn.execute("SELECT day, requests, tokens, cost_pico_usd FROM usage_daily").fetchall()
    assert rollup == [("2026-03-02", 2, 14, 14)]
