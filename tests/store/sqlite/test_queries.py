"""What the SQLite store keeps beyond the contract: its one worker runs calls in order (a queued
reservation is seen by the very next call), times are fixed-width UTC text, and the schema's
CHECK constraints refuse what the types would allow."""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from aihub_core.store.base import StoredMessage, UserRecord
from aihub_core.store.sqlite._reports import _MONTH_FIGURES
from aihub_core.store.sqlite.store import SQLiteStore
from tests.store.conftest import T0, UsageFactory, pending


def ledger_rows(db_path: Path) -> list[dict[str, Any]]:
    """The ledger as another connection sees it: only what was committed."""
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute("SELECT * FROM usage_records ORDER BY request_id")]


async def test_the_worker_runs_calls_in_order_so_a_queued_reservation_is_seen_at_once(
    store: SQLiteStore, alice: UserRecord, usage: UsageFactory, t0: datetime, caplog: pytest.LogCaptureFixture
) -> None:
    store.queue_reservation(pending(usage, "req_1", alice.id, t0))  # returns at once
    assert await store.count_requests(alice.id, t0) == 1  # a later call sees it: the worker keeps order
    store.queue_reservation(pending(usage, "req_2", "usr_nobody", t0))  # no such user: refused
    await store.record_usage(usage("req_3", alice.id, created_at=t0))
    assert "a usage reservation was not written" in caplog.text  # before the next call returned


async def test_times_are_stored_as_fixed_width_utc_text(
    store: SQLiteStore, db_path: Path, alice: UserRecord, usage: UsageFactory
) -> None:
    # Text order is time order only at one width and one offset: a local time is stored in UTC.
    admitted = T0.astimezone(timezone(timedelta(hours=9)))
    settled_at = T0 + timedelta(seconds=3)
    await store.reserve_usage(pending(usage, "req_1", alice.id, admitted))
    await store.record_usage(usage("req_1", alice.id, cost=0.25, created_at=settled_at))
    [row] = ledger_rows(db_path)
    assert row["created_at"] == T0.isoformat(timespec="microseconds") == "2026-03-31T12:00:00.000000+00:00"
    assert row["settled_at"] == settled_at.isoformat(timespec="microseconds")
    assert row["recovered"] == 0
    assert (await store.recover_abandoned()).reservations == 0  # its own reservation is live


async def test_a_bad_status_is_refused_by_its_check_and_undoes_the_turn(
    store: SQLiteStore, alice: UserRecord, usage: UsageFactory
) -> None:
    turn = (StoredMessage("user", "kept", T0), StoredMessage("assistant", "re: kept", T0))
    await store.append_turn(alice.id, "s1", *turn, usage("req_2", alice.id))
    bad_status = replace(usage("req_3", alice.id), status="bogus")  # type: ignore[arg-type]
    lost = (StoredMessage("user", "lost too", T0), StoredMessage("assistant", "re: lost too", T0))
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        await store.append_turn(alice.id, "s1", *lost, bad_status)
    messages = await store.session_messages(alice.id, "s1")
    assert [m.content for m in messages or []] == ["kept", "re: kept"]
    assert await store.count_requests(alice.id, T0) == 1


async def test_month_figures_read_each_account_through_its_indexes(store: SQLiteStore, db_path: Path) -> None:
    """The operators' grouped read never scans the ledger or the rollup: per id, index searches."""
    sql = _MONTH_FIGURES.format(ids="(:u0), (:u1)")
    params = {"u0": "a", "u1": "b", "whole": "", "since": "", "whole_start": "", "first": "", "last": ""}
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
    searches = [step for step in plan if "usage_records" in step or "usage_daily" in step]
    assert len(searches) == 4, plan
    assert all(step.startswith("SEARCH") for step in searches), plan
