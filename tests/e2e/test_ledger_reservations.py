"""Reservations through the real stack: a chat is pending in the ledger while it runs, settled
(committed) before its client sees the end, and left-over reservations are recovered at start."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from aihub_core.app import Core
from aihub_core.store.base import UsageRecord, UserRecord
from aihub_core.store.sqlite.store import SQLiteStore
from tests.conftest import Account, isolated_settings

DEV = "/v1/developer"


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Core]:
    """A core whose simulated streams are paced, so a test can look at the ledger mid-answer."""
    running = await Core.start(isolated_settings(tmp_path, simulator_chunk_delay_ms=40))
    try:
        yield running
    finally:
        await running.stop(grace=0)


def ledger(db: Path) -> list[dict[str, Any]]:
    """The ledger as another connection sees it: what is committed."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute("SELECT * FROM usage_records")]


async def test_a_stream_is_pending_until_settled_before_done(
    http: httpx.AsyncClient, account: Account, tmp_path: Path
) -> None:
    db = tmp_path / "aihub.db"
    seen: list[dict[str, Any]] = []
    body = {"message": "a story, please"}
    async with http.stream("POST", f"{DEV}/chat/stream", json=body, headers=account.key_auth) as response:
        request_id = response.headers["x-request-id"]
        async for line in response.aiter_lines():
            if line.startswith("data:") and not seen:
                seen = ledger(db)  # at the first piece: admitted and reserved, far from settled
    assert [(r["request_id"], r["status"], r["cost_pico_usd"]) for r in seen] == [(request_id, "pending", 0)]
    [row] = ledger(db)
    assert (row["request_id"], row["status"], row["usage_source"]) == (request_id, "ok", "provider")
    assert row["created_at"] == seen[0]["created_at"] and row["settled_at"] >= row["created_at"]


async def test_a_unary_chat_is_settled_when_its_response_arrives(
    http: httpx.AsyncClient, account: Account, tmp_path: Path
) -> None:
    response = await http.post(f"{DEV}/chat", json={"message": "hi"}, headers=account.key_auth)
    assert response.status_code == 200
    usage = response.json()["usage"]
    [row] = ledger(tmp_path / "aihub.db")
    assert row["request_id"] == response.headers["x-request-id"] and row["status"] == "ok"
    assert (row["prompt_tokens"], row["completion_tokens"], row["cost_pico_usd"] / 10**12) == (
        usage["prompt_tokens"],
        usage["completion_tokens"],
        usage["estimated_cost_usd"],
    )


async def test_start_recovers_reservations_left_pending(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = isolated_settings(tmp_path)
    core = await Core.start(settings)
    await core.stop(grace=0)
    now = datetime.now(UTC)
    async with SQLiteStore(tmp_path / "aihub.db") as store:
        await store.create_user(UserRecord("usr_1", "one@example.com", "h", "free", now))
        reservation = UsageRecord("req_1", "usr_1", None, "openrouter", "m", 0, 0, 0, "pending", "none", now)
        await store.reserve_usage(reservation)
        await store.record_usage(
            replace(reservation, request_id="req_2", status="ok", cost_pico_usd=500_000_000_000)
        )
    with caplog.at_level(logging.WARNING, logger="aihub.core"):
        core = await Core.start(settings)
    await core.stop(grace=0)
    rows = {r["request_id"]: r for r in ledger(tmp_path / "aihub.db")}
    assert (rows["req_1"]["status"], rows["req_1"]["recovered"]) == ("error", 1)
    assert (rows["req_2"]["status"], rows["req_2"]["recovered"]) == ("ok", 0)
    assert "settled 1 usage reservation(s)" in caplog.text
