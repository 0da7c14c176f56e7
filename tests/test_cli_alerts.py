"""`aihub alerts outbox [--all] [--limit N]` and `aihub alerts retry [EVENT_ID ...|--all]` against
the database AIHUB_DATABASE_URL names, on SQLite and PostgreSQL: the operator sees what the webhook
is owed and why it failed, and makes it due now once the receiver is fixed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aihub_cli.main import main
from aihub_core.store.base import AlertEvent, AlertRecord, StoreOptions, UserRecord
from tests.store.conformance.backends import BACKENDS, Backend, opened

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture(params=[pytest.param(name, marks=getattr(pytest.mark, name)) for name in sorted(BACKENDS)])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    async with BACKENDS[request.param](tmp_path) as made:
        yield made


async def _outbox(backend: Backend) -> None:
    """evt_a delivered, evt_b refused once (due again in an hour), evt_c owed, never tried yet."""
    async with opened(backend.store(StoreOptions(keep_lease=False))) as store:
        await store.create_user(UserRecord("usr_1", "ops@example.com", "h", "free", T0))
        await store.create_alert(AlertRecord("alert_1", "usr_1", "", "requests", 0, "", 5, "day", T0))
        for i, name in enumerate("abc"):
            at = T0 + timedelta(minutes=i)
            await store.fire_alert(AlertEvent(f"evt_{name}", "alert_1", "usr_1", f"d{i}", "{}", at))
        lease = T0 + timedelta(hours=9)
        await store.claim_alert_deliveries(T0 + timedelta(minutes=1), lease, 2)
        await store.finish_alert_delivery("evt_a", T0, T0, "")
        await store.finish_alert_delivery("evt_b", None, T0 + timedelta(hours=2), "HTTP 500")


async def _due(backend: Backend) -> dict[str, datetime | None]:
    async with opened(backend.store(StoreOptions(keep_lease=False))) as store:
        return {e.event_id: e.next_attempt_at for e in await store.alert_outbox(10)}


async def aihub(backend: Backend, *args: str) -> int:
    env = {"AIHUB_JWT_SECRET": "x" * 40, "AIHUB_DATABASE_URL": backend.url}
    return await asyncio.to_thread(main, ["alerts", *args], env)


async def test_the_outbox_lists_what_is_owed_and_retry_makes_it_due_now(
    backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    await _outbox(backend)
    assert await aihub(backend, "outbox") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "EVENT",
        "USER",
        "ALERT",
        "CREATED",
        "ATTEMPTS",
        "NEXT",
        "ATTEMPT",
        "LAST",
        "ERROR",
    ]
    assert lines[1].split() == [
        "evt_b",
        "ops@example.com",
        "alert_1",
        "2026-12-03T09:01:00Z",
        "1",
        "2026-12-03T11:00:00Z",
        "HTTP",
        "500",
    ]
    assert lines[2].split() == [
        "evt_c",
        "ops@example.com",
        "alert_1",
        "2026-12-03T09:02:00Z",
        "0",
        "2026-12-03T09:02:00Z",
        "-",
    ]
    assert lines[3:] == ["2 event(s) owed, the oldest recorded 2026-12-03T09:01:00Z"]

    assert await aihub(backend, "outbox", "--all", "--limit", "2") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[-5:] == ["ATTEMPT", "STATE", "DELIVERED", "LAST", "ERROR"]
    assert [line.split()[0] for line in lines[1:3]] == ["evt_c", "evt_b"]
    assert await aihub(backend, "outbox", "--all") == 0
    delivered = capsys.readouterr().out.splitlines()[3].split()
    assert (delivered[0], delivered[-3:]) == ("evt_a", ["delivered", "2026-12-03T09:00:00Z", "-"])

    before = datetime.now(UTC)
    assert await aihub(backend, "retry", "evt_b", "evt_a") == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "1 event(s) due now: a running gateway sends them at its next poll",
        "  evt_b",
    ]
    assert "not owed (unknown, delivered, or never to send): evt_a" in captured.err
    due = await _due(backend)
    made_due = due["evt_b"]
    assert made_due is not None and before <= made_due <= datetime.now(UTC)
    assert due["evt_c"] == T0 + timedelta(minutes=2)  # not named: left as it was

    assert await aihub(backend, "retry", "--all") == 0
    assert capsys.readouterr().out.splitlines()[1:] == ["  evt_b", "  evt_c"]
    later = await _due(backend)
    assert later["evt_c"] is not None and later["evt_c"] >= before


async def test_wrong_arguments_are_refused_before_the_database_is_touched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"AIHUB_JWT_SECRET": "x" * 40}
    db = tmp_path / "never.db"
    for args, said in (
        (["retry"], "name the events to retry, or give --all"),
        (["retry", "evt_1", "--all"], "not both"),
        (["outbox", "--limit", "0"], "--limit must be 1 to 10000"),
    ):
        assert await asyncio.to_thread(main, ["alerts", *args, "--db", str(db)], env) == 2
        assert said in capsys.readouterr().err
    assert not db.exists()
