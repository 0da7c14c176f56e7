"""Fixtures for the store tests: a real SQLite file per test, and record factories."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aihub_core.store.base import ApiKeyRecord, UsageRecord, UsageStatus, UserRecord
from aihub_core.store.sqlite.store import SQLiteStore

T0 = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)

UsageFactory = Callable[..., UsageRecord]
KeyFactory = Callable[..., ApiKeyRecord]
UserFactory = Callable[..., UserRecord]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "aihub.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[SQLiteStore]:
    async with SQLiteStore(db_path) as opened:
        yield opened


def _user(user_id: str, email: str, created_at: datetime = T0) -> UserRecord:
    return UserRecord(
        id=user_id, email=email, password_hash="$argon2id$x", plan="free", created_at=created_at
    )


@pytest.fixture
def t0() -> datetime:
    """The moment the factories' records default to."""
    return T0


@pytest.fixture
def make_user() -> UserFactory:
    return _user


@pytest.fixture
async def alice(store: SQLiteStore) -> UserRecord:
    user = _user("usr_alice", "alice@example.com")
    await store.create_user(user)
    return user


@pytest.fixture
async def bob(store: SQLiteStore) -> UserRecord:
    user = _user("usr_bob", "bob@example.com")
    await store.create_user(user)
    return user


@pytest.fixture
def usage() -> UsageFactory:
    def make(
        request_id: str,
        user_id: str,
        *,
        cost: float = 0.0,
        status: UsageStatus = "ok",
        created_at: datetime = T0,
        prompt_tokens: int = 10,
        completion_tokens: int = 5,
    ) -> UsageRecord:
        return UsageRecord(
            request_id=request_id,
            user_id=user_id,
            key_id=None,
            service="openrouter",
            model="x-ai/grok-beta",
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=cost,
            status=status,
            usage_source="provider",
            created_at=created_at,
        )

    return make


@pytest.fixture
def api_key() -> KeyFactory:
    def make(key_id: str, user_id: str, *, created_at: datetime = T0, rpm: int | None = None) -> ApiKeyRecord:
        return ApiKeyRecord(
            id=key_id,
            user_id=user_id,
            name=f"key {key_id}",
            key_hash=f"hash-{key_id}",
            prefix="ai-hub-abcde",
            permissions=("chat", "usage"),
            requests_per_minute=rpm,
            created_at=created_at,
        )

    return make
