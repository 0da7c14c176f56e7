"""`aihub users set-budget EMAIL USD --period day|month`: the user's own budget in USD, stored for
the gateway to hold calls against (tests/e2e/test_key_budgets.py), removed with 0."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aihub_cli.main import main
from aihub_core.store.base import UserRecord
from aihub_core.store.sqlite.store import SQLiteStore


async def _budget(db: Path) -> tuple[int | None, str | None]:
    store = SQLiteStore(str(db))
    await store.open()
    try:
        user = await store.get_user_by_email("cli@example.com")
        assert user is not None
        return user.budget_pico_usd, user.budget_period
    finally:
        await store.close()


async def _create_user(db: Path) -> None:
    store = SQLiteStore(str(db))
    await store.open()
    try:
        await store.create_user(UserRecord("usr_1", "cli@example.com", "h", "free", datetime.now(UTC)))
    finally:
        await store.close()


def user_budget(db: Path) -> tuple[int | None, str | None]:
    return asyncio.run(_budget(db))


def test_set_budget_sets_changes_and_removes_a_users_budget(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "aihub.db"
    asyncio.run(_create_user(db))
    env = {"AIHUB_JWT_SECRET": "x" * 40}

    assert main(["users", "set-budget", "CLI@example.com", "2.5", "--db", str(db)], env) == 0
    assert user_budget(db) == (2_500_000_000_000, "month")
    assert "2.5 USD a month" in capsys.readouterr().out
    assert (
        main(["users", "set-budget", "cli@example.com", "0.1", "--period", "day", "--db", str(db)], env) == 0
    )
    assert user_budget(db) == (100_000_000_000, "day")
    assert main(["users", "set-budget", "cli@example.com", "0", "--db", str(db)], env) == 0
    assert user_budget(db) == (None, None)

    assert main(["users", "set-budget", "nobody@example.com", "1", "--db", str(db)], env) == 1
    assert "no user" in capsys.readouterr().err
    assert main(["users", "set-budget", "cli@example.com", "-3", "--db", str(db)], env) == 2
    assert "limit_usd must be more than 0" in capsys.readouterr().err
