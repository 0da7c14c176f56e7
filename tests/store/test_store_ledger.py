"""The ledger's reservations: reserve then settle leaves one row, settled once; recovery."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aihub_core.store.base import DailyTotals, IdempotencyRecord, StoredMessage, UsageRecord, UserRecord
from aihub_core.store.sqlite.store import SQLiteStore

UsageFactory = Callable[..., UsageRecord]


def pending(usage: UsageFactory, request_id: str, user_id: str, at: datetime) -> UsageRecord:
    """A reservation as the chat engine writes it: nothing counted yet."""
    record = usage(request_id, user_id, created_at=at, prompt_tokens=0, completion_tokens=0)
    return replace(record, status="pending", usage_source="none")


def ledger_rows(db_path: Path) -> list[dict[str, Any]]:
    """The ledger as another connection sees it: only what was committed."""
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute("SELECT * FROM usage_records ORDER BY request_id")]


async def test_a_queued_reservation_lands_before_the_settlement_queued_after_it(
    store: SQLiteStore, db_path: Path, alice: UserRecord, usage: UsageFactory, t0: datetime
) -> None:
    store.queue_reservation(pending(usage, "req_1", alice.id, t0))  # returns at once
    assert await store.count_requests(alice.id, t0) == 1  # a later call sees it: the worker keeps order
    await store.record_usage(usage("req_1", alice.id, cost=0.25, created_at=t0 + timedelta(seconds=3)))
    [row] = ledger_rows(db_path)  # one row: the reservation, settled
    assert (row["status"], row["cost_usd"]) == ("ok", 0.25)


async def test_a_queued_reservation_that_fails_is_logged_and_the_settlement_still_records(
    store: SQLiteStore,
    db_path: Path,
    alice: UserRecord,
    usage: UsageFactory,
    t0: datetime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store.queue_reservation(pending(usage, "req_1", "usr_nobody", t0))  # no such user: refused
    await store.record_usage(usage("req_2", alice.id, created_at=t0))
    assert "a usage reservation was not written" in caplog.text
    assert [row["request_id"] for row in ledger_rows(db_path)] == ["req_2"]


async def test_reserve_then_settle_leaves_one_settled_row(
    store: SQLiteStore, db_path: Path, alice: UserRecord, usage: UsageFactory, t0: datetime
) -> None:
    await store.reserve_usage(pending(usage, "req_1", alice.id, t0))
    [row] = ledger_rows(db_path)  # committed by the time the call returned
    assert (row["status"], row["settled_at"], row["cost_usd"]) == ("pending", None, 0.0)
    # In flight: counted against the quota, not in the reports (it has no cost yet).
    assert await store.count_requests(alice.id, t0) == 1
    assert await store.daily_usage(alice.id, t0.date(), t0.date()) == []

    settled_at = t0 + timedelta(seconds=3)
    await store.record_usage(usage("req_1", alice.id, cost=0.25, created_at=settled_at, prompt_tokens=7))
    [row] = ledger_rows(db_path)
    assert row["status"] == "ok" and row["usage_source"] == "provider"
    assert (row["prompt_tokens"], row["completion_tokens"], row["cost_usd"]) == (7, 5, 0.25)
    # The row keeps the moment the call was admitted, and says when it was settled.
    assert row["created_at"] == t0.isoformat(timespec="microseconds")
    assert row["settled_at"] == settled_at.isoformat(timespec="microseconds")
    assert row["recovered"] == 0
    assert await store.count_requests(alice.id, t0) == 1
    assert await store.daily_usage(alice.id, t0.date(), t0.date()) == [
        DailyTotals(t0.date(), requests=1, tokens=12, cost_usd=0.25)
    ]


async def test_settling_twice_keeps_the_first_settlement(
    store: SQLiteStore, db_path: Path, alice: UserRecord, usage: UsageFactory, t0: datetime
) -> None:
    await store.reserve_usage(pending(usage, "req_1", alice.id, t0))
    await store.record_usage(usage("req_1", alice.id, cost=0.5))
    await store.record_usage(usage("req_1", alice.id, cost=9.0, status="error", prompt_tokens=999))
    user_turn = StoredMessage("user", "hi", t0)
    answer = StoredMessage("assistant", "hello", t0)
    await store.append_turn(alice.id, "s1", user_turn, answer, usage("req_1", alice.id, cost=7.0))
    await store.reserve_usage(pending(usage, "req_1", alice.id, t0))  # a late reservation changes nothing
    [row] = ledger_rows(db_path)
    assert (row["status"], row["cost_usd"], row["prompt_tokens"]) == ("ok", 0.5, 10)
    assert await store.session_messages(alice.id, "s1") == [user_turn, answer]


async def test_append_turn_settles_the_reservation_with_its_turn(
    store: SQLiteStore, db_path: Path, alice: UserRecord, usage: UsageFactory, t0: datetime
) -> None:
    await store.reserve_usage(pending(usage, "req_1", alice.id, t0))
    turn = (StoredMessage("user", "hi", t0), StoredMessage("assistant", "hello", t0))
    settlement = replace(usage("req_1", alice.id, cost=0.1), model="fallback")
    await store.append_turn(alice.id, "s1", *turn, settlement)
    [row] = ledger_rows(db_path)
    assert (row["status"], row["cost_usd"], row["model"]) == ("ok", 0.1, "fallback")
    assert len(await store.session_messages(alice.id, "s1") or []) == 2


async def test_a_settlement_without_reservation_is_inserted_and_refusals_need_none(
    store: SQLiteStore, db_path: Path, alice: UserRecord, usage: UsageFactory
) -> None:
    await store.record_usage(usage("req_ok", alice.id, cost=0.5))
    await store.record_usage(usage("req_refused", alice.id, status="refused", prompt_tokens=0))
    rows = ledger_rows(db_path)
    assert [(r["request_id"], r["status"]) for r in rows] == [("req_ok", "ok"), ("req_refused", "refused")]
    assert all(r["settled_at"] == r["created_at"] for r in rows)


async def test_another_users_settlement_cannot_touch_a_reservation(
    store: SQLiteStore, db_path: Path, alice: UserRecord, bob: UserRecord, usage: UsageFactory, t0: datetime
) -> None:
    await store.reserve_usage(pending(usage, "req_1", alice.id, t0))
    await store.record_usage(usage("req_1", bob.id, cost=1.0))
    [row] = ledger_rows(db_path)
    assert (row["user_id"], row["status"]) == (alice.id, "pending")


async def test_reservations_are_pending_and_settlements_are_not(
    store: SQLiteStore, db_path: Path, alice: UserRecord, usage: UsageFactory, t0: datetime
) -> None:
    with pytest.raises(ValueError, match="pending"):
        await store.reserve_usage(usage("req_1", alice.id))
    with pytest.raises(ValueError, match="pending"):
        await store.record_usage(pending(usage, "req_2", alice.id, t0))
    assert ledger_rows(db_path) == []


async def test_recovery_settles_pending_rows_as_uncharged_errors(
    db_path: Path, alice: UserRecord, usage: UsageFactory, t0: datetime
) -> None:
    async with SQLiteStore(db_path) as before_crash:
        for request_id in ("req_a", "req_b", "req_c"):
            await before_crash.reserve_usage(pending(usage, request_id, alice.id, t0))
        await before_crash.record_usage(usage("req_b", alice.id, cost=0.5))
    restart = t0 + timedelta(minutes=5)
    async with SQLiteStore(db_path) as after_restart:
        assert await after_restart.recover_pending(restart) == 2
        assert await after_restart.recover_pending(restart) == 0
        # A settlement arriving after recovery (it cannot, from a dead process) is ignored.
        await after_restart.record_usage(usage("req_a", alice.id, cost=3.0))
        assert await after_restart.count_requests(alice.id, t0) == 3
        [day] = await after_restart.daily_usage(alice.id, t0.date(), t0.date())
    assert (day.requests, day.tokens, day.cost_usd) == (3, 15, 0.5)
    rows = {r["request_id"]: r for r in ledger_rows(db_path)}
    for request_id in ("req_a", "req_c"):
        row = rows[request_id]
        assert (row["status"], row["usage_source"], row["recovered"]) == ("error", "none", 1)
        assert (row["prompt_tokens"], row["completion_tokens"], row["cost_usd"]) == (0, 0, 0.0)
        assert row["settled_at"] == restart.isoformat(timespec="microseconds")
    assert (rows["req_b"]["status"], rows["req_b"]["recovered"]) == ("ok", 0)


async def test_idempotency_claims_complete_release_and_expire(tmp_path: Path) -> None:
    """A key is claimed once; the holder's answer is stored; a failed claim or an expired one frees it."""
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    async with SQLiteStore(tmp_path / "i.db") as store:
        await store.create_user(UserRecord("u1", "u1@example.com", "h", "free", t0))
        claim = IdempotencyRecord("u1", "k", "hash-a", "req_1", t0)
        assert await store.claim_idempotency_key(claim, t0 - timedelta(days=1)) is None
        held = await store.claim_idempotency_key(replace(claim, request_id="req_2"), t0 - timedelta(days=1))
        assert held is not None and (held.request_id, held.done) == ("req_1", False)
        await store.release_idempotency_key("u1", "k")
        assert await store.claim_idempotency_key(claim, t0 - timedelta(days=1)) is None
        await store.complete_idempotency_key("u1", "k", b"answer")
        await store.release_idempotency_key("u1", "k")  # a finished claim is not released
        held = await store.claim_idempotency_key(
            replace(claim, request_hash="hash-b"), t0 - timedelta(days=1)
        )
        assert held is not None and held.response == b"answer" and held.request_hash == "hash-a"
        later = replace(claim, created_at=t0 + timedelta(days=2), request_id="req_3")
        assert await store.claim_idempotency_key(later, t0 + timedelta(days=1)) is None  # the old one expired


async def test_pending_idempotency_claims_are_released_at_start(tmp_path: Path) -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    async with SQLiteStore(tmp_path / "i.db") as store:
        await store.create_user(UserRecord("u1", "u1@example.com", "h", "free", t0))
        for key in ("running", "finished"):
            await store.claim_idempotency_key(IdempotencyRecord("u1", key, "h", "req", t0), t0)
        await store.complete_idempotency_key("u1", "finished", b"answer")
        assert await store.release_pending_idempotency_keys() == 1
        fresh = IdempotencyRecord("u1", "running", "h", "req_2", t0)
        assert await store.claim_idempotency_key(fresh, t0) is None
        assert await store.claim_idempotency_key(replace(fresh, key="finished"), t0) is not None


async def test_a_dead_workers_pending_calls_and_claims_are_settled_and_no_one_elses(
    db_path: Path, alice: UserRecord, usage: UsageFactory, t0: datetime
) -> None:
    """Workers share the file; when one dies, only what it left pending is settled or freed."""
    async with SQLiteStore(db_path, owner="pid:1") as dead, SQLiteStore(db_path, owner="pid:2") as alive:
        await dead.reserve_usage(pending(usage, "req_dead", alice.id, t0))
        dead.queue_reservation(pending(usage, "req_dead_queued", alice.id, t0))
        await alive.reserve_usage(pending(usage, "req_alive", alice.id, t0))
        for store, key in ((dead, "k_dead"), (alive, "k_alive")):
            assert (
                await store.claim_idempotency_key(IdempotencyRecord(alice.id, key, "h", "r", t0), t0) is None
            )
        assert await dead.count_requests(alice.id, t0) == 3
    async with SQLiteStore(db_path) as supervisor:
        assert await supervisor.recover_pending(t0, "pid:1") == 2
        assert await supervisor.release_pending_idempotency_keys("pid:1") == 1
        assert await supervisor.recover_pending(t0, "pid:1") == 0
        # The live worker's claim still holds; the dead one's key is free for a retry.
        assert await supervisor.claim_idempotency_key(
            IdempotencyRecord(alice.id, "k_alive", "h", "x", t0), t0
        )
        assert (
            await supervisor.claim_idempotency_key(IdempotencyRecord(alice.id, "k_dead", "h", "x", t0), t0)
            is None
        )
    rows = {r["request_id"]: r for r in ledger_rows(db_path)}
    assert {k: (r["status"], r["recovered"], r["owner"]) for k, r in rows.items()} == {
        "req_dead": ("error", 1, "pid:1"),
        "req_dead_queued": ("error", 1, "pid:1"),
        "req_alive": ("pending", 0, "pid:2"),
    }
