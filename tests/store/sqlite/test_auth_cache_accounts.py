"""The auth cache over the real SQLite store: a key already seen costs no store read; deletions
and plan changes (from this process or another) take effect on the very next request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aihub_core.auth.tokens import TokenIssuer
from aihub_core.errors import AuthenticationError
from aihub_core.identity import Caller
from aihub_core.limits.plans import Plans
from aihub_core.services.accounts import TOUCH_INTERVAL, Accounts, AuthCache, CachedCaller
from aihub_core.services.keys import KeyManager
from aihub_core.store.base import ApiKeyRecord, UserRecord
from aihub_core.store.sqlite.store import SQLiteStore
from tests.conftest import TEST_JWT_SECRET
from tests.store.conftest import T0


class SpiedStore(SQLiteStore):
    """The real store, recording every statement its worker runs; a lookup can be held on the
    event loop right after its key read or its user read."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, tracer=self._trace)
        self.statements: list[str] = []
        self.hold_after: str | None = None
        self.held = asyncio.Event()
        self.resume = asyncio.Event()

    def _trace(self, sql: str, params: Any) -> None:
        self.statements.append(sql)

    async def get_api_key_by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        found = await super().get_api_key_by_hash(key_hash)
        await self._hold("key")
        return found

    async def get_user(self, user_id: str) -> UserRecord | None:
        found = await super().get_user(user_id)
        await self._hold("user")
        return found

    async def _hold(self, where: str) -> None:
        if self.hold_after == where:
            self.hold_after = None
            self.held.set()
            await self.resume.wait()


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    store: SpiedStore
    accounts: Accounts
    keys: KeyManager
    clock: Clock
    user: Caller

    async def new_key(self, name: str = "k") -> tuple[str, str]:
        record, secret = await self.keys.create(self.user, name, None, None)
        return record.id, secret


async def make_world(path: Path, cache_size: int = 100) -> AsyncIterator[World]:
    clock = Clock()
    store = SpiedStore(path)
    async with store:
        plans = Plans()
        accounts = Accounts(
            store, TokenIssuer(TEST_JWT_SECRET, 3600), plans, now=clock, cache_size=cache_size
        )
        login = await accounts.register("dev@example.com", "correct horse")
        user = Caller(login.user.id, plans.get(login.user.plan))
        yield World(store, accounts, KeyManager(store, now=clock), clock, user)


@pytest.fixture
async def world(db_path: Path) -> AsyncIterator[World]:
    async for made in make_world(db_path):
        yield made


def reads(statements: list[str]) -> list[str]:
    return [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]


async def test_a_key_already_seen_costs_no_store_round_trip(world: World) -> None:
    _, secret = await world.new_key()
    first = await world.accounts.from_api_key(secret)
    world.store.statements.clear()
    for _ in range(50):
        assert await world.accounts.from_api_key(secret) == first
    assert world.store.statements == []


async def test_a_jwt_user_already_seen_costs_no_store_round_trip(world: World) -> None:
    login = await world.accounts.login("dev@example.com", "correct horse")
    first = await world.accounts.from_jwt(login.token)
    world.store.statements.clear()
    assert await world.accounts.from_jwt(login.token) == first
    assert world.store.statements == []


async def test_a_deleted_key_fails_its_very_next_request(world: World) -> None:
    key_id, secret = await world.new_key()
    await world.accounts.from_api_key(secret)
    await world.accounts.from_api_key(secret)
    await world.keys.delete(world.user, key_id)
    with pytest.raises(AuthenticationError, match="Unknown API key"):
        await world.accounts.from_api_key(secret)


@pytest.mark.parametrize("hold_after", ["key", "user"])
async def test_a_delete_during_a_lookup_cannot_leave_the_key_cached(world: World, hold_after: str) -> None:
    key_id, secret = await world.new_key()
    world.store.hold_after = hold_after
    in_flight = asyncio.create_task(world.accounts.from_api_key(secret))
    await asyncio.wait_for(world.store.held.wait(), 10)
    await world.keys.delete(world.user, key_id)
    world.store.resume.set()
    # The lookup began before the delete, so it may still succeed; nothing after it may.
    assert (await in_flight).key_id == key_id
    with pytest.raises(AuthenticationError):
        await world.accounts.from_api_key(secret)


async def test_a_lookup_older_than_the_cache_is_not_kept(world: World) -> None:
    deleted_id, deleted = await world.new_key("deleted")
    _, kept = await world.new_key("kept")
    world.store.hold_after = "user"
    in_flight = asyncio.create_task(world.accounts.from_api_key(deleted))
    await asyncio.wait_for(world.store.held.wait(), 10)
    await world.keys.delete(world.user, deleted_id)
    # Another request moves the cache to the new generation while the old lookup is held.
    await world.accounts.from_api_key(kept)
    world.store.resume.set()
    await in_flight
    with pytest.raises(AuthenticationError):
        await world.accounts.from_api_key(deleted)
    world.store.statements.clear()
    await world.accounts.from_api_key(kept)
    assert world.store.statements == []


async def test_a_plan_set_by_another_process_applies_to_the_next_request(world: World, db_path: Path) -> None:
    _, secret = await world.new_key()
    token = (await world.accounts.login("dev@example.com", "correct horse")).token
    assert (await world.accounts.from_api_key(secret)).plan.name == "free"
    assert (await world.accounts.from_jwt(token)).plan.name == "free"
    async with SQLiteStore(db_path) as cli:  # `aihub users set-plan`'s store, its own connection
        assert await cli.set_plan("dev@example.com", "enterprise")
    by_key = await world.accounts.from_api_key(secret)
    assert by_key.plan == Plans().get("enterprise")
    assert (await world.accounts.from_jwt(token)).plan == Plans().get("enterprise")
    world.store.statements.clear()
    assert await world.accounts.from_api_key(secret) == by_key
    assert world.store.statements == []


async def test_last_used_is_written_once_a_minute_without_a_read(world: World) -> None:
    _, secret = await world.new_key()
    await world.accounts.from_api_key(secret)
    (listed,) = await world.store.list_api_keys(world.user.user_id)
    assert listed.last_used == T0
    world.store.statements.clear()
    world.clock.now = T0 + TOUCH_INTERVAL / 2
    await world.accounts.from_api_key(secret)
    assert world.store.statements == []
    world.clock.now = T0 + TOUCH_INTERVAL + timedelta(seconds=1)
    await world.accounts.from_api_key(secret)
    assert len(world.store.statements) == 1 and "SET last_used" in world.store.statements[0]
    (listed,) = await world.store.list_api_keys(world.user.user_id)
    assert listed.last_used == world.clock.now


async def test_the_cache_is_bounded_and_drops_the_least_recently_used(db_path: Path) -> None:
    async for world in make_world(db_path, cache_size=2):
        secrets = [(await world.new_key(name))[1] for name in ("a", "b", "c")]
        a, b, c = secrets
        await world.accounts.from_api_key(a)
        await world.accounts.from_api_key(b)
        await world.accounts.from_api_key(a)  # a is now the most recently used
        await world.accounts.from_api_key(c)  # so b goes
        world.store.statements.clear()
        await world.accounts.from_api_key(a)
        await world.accounts.from_api_key(c)
        assert world.store.statements == []
        await world.accounts.from_api_key(b)
        assert len(reads(world.store.statements)) == 2  # the key, then its user


def test_the_cache_never_holds_more_than_its_capacity() -> None:
    cache = AuthCache(capacity=3)
    cache.sync(7)
    user = Caller("usr_1", Plans().get("free"))
    for i in range(10):
        cache.put(7, "key", f"hash{i}", CachedCaller(user))
    assert len(cache) == 3
    assert [cache.get("key", f"hash{i}") is not None for i in (6, 7, 8, 9)] == [False, True, True, True]
    cache.put(6, "key", "stale", CachedCaller(user))  # loaded under an older generation: not kept
    assert cache.get("key", "stale") is None
    cache.sync(8)
    assert len(cache) == 0
    with pytest.raises(ValueError):
        AuthCache(capacity=0)


async def test_a_logged_out_token_fails_its_very_next_request_without_touching_api_keys(world: World) -> None:
    login = await world.accounts.login("dev@example.com", "correct horse")
    _, secret = await world.new_key()
    await world.accounts.from_jwt(login.token)
    await world.accounts.from_api_key(secret)
    # Another process logs the token out: this one refuses it at once, and its API keys' cached
    # callers stay (a log-out moves its own counter, never the auth generation).
    claims = TokenIssuer(TEST_JWT_SECRET, 3600).verify(login.token)
    await world.store.revoke_token(claims.token_id, claims.user_id, claims.expires_at, claims.issued_at)
    with pytest.raises(AuthenticationError, match="log-out"):
        await world.accounts.from_jwt(login.token)
    world.store.statements.clear()
    await world.accounts.from_api_key(secret)
    assert world.store.statements == []
