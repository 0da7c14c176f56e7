"""Fixtures for every store test: record factories, and two users on the `store` the test's
folder provides (each backend through `conformance/`, SQLite's own in `sqlite/`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from aihub_core.pricing import PICO_PER_USD, printed
from aihub_core.store.base import ApiKeyRecord, Store, UsageRecord, UsageStatus, UserRecord

T0 = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)

UsageFactory = Callable[..., UsageRecord]
KeyFactory = Callable[..., ApiKeyRecord]
UserFactory = Callable[..., UserRecord]


def pico(usd: float) -> int:
    """A cost in USD, as printed, in pico-USD (the store's unit): 0.25 -> 250_000_000_000."""
    return round(printed(usd) * PICO_PER_USD)


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
async def alice(store: Store) -> UserRecord:
    user = _user("usr_alice", "alice@example.com")
    await store.create_user(user)
    return user


@pytest.fixture
async def bob(store: Store) -> UserRecord:
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
            cost_pico_usd=pico(cost),
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


def pending(usage: UsageFactory, request_id: str, user_id: str, at: datetime) -> UsageRecord:
    """A reservation as the chat engine writes it: nothing counted yet."""
    record = usage(request_id, user_id, created_at=at, prompt_tokens=0, completion_tokens=0)
    return replace(record, status="pending", usage_source="none")
