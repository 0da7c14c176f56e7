"""Every Store method against a real SQLite file: users, API keys, sessions."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from aihub_core.errors import ConflictError, NotFoundError
from aihub_core.store.base import ApiKeyRecord, StoredMessage, UsageRecord, UserRecord
from aihub_core.store.sqlite.store import SQLiteStore

KeyFactory = Callable[..., ApiKeyRecord]
UsageFactory = Callable[..., UsageRecord]
UserFactory = Callable[..., UserRecord]
# The same moment as the factories' default (conftest's `t0`).
T0 = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)


async def test_user_round_trip_with_utc_times(store: SQLiteStore, make_user: UserFactory) -> None:
    paris = timezone(timedelta(hours=2))
    user = make_user("usr_1", "Ann@Example.com", created_at=datetime(2026, 4, 1, 1, 30, tzinfo=paris))
    await store.create_user(user)
    found = await store.get_user("usr_1")
    assert found == replace(user, email="ann@example.com")
    assert found is not None and found.created_at.tzinfo == UTC
    assert found.created_at == datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    assert await store.get_user("usr_missing") is None


async def test_email_is_case_insensitive(
    store: SQLiteStore, make_user: UserFactory, alice: UserRecord
) -> None:
    assert await store.get_user_by_email("ALICE@example.COM") == alice
    with pytest.raises(ConflictError) as caught:
        await store.create_user(make_user("usr_other", "Alice@Example.com"))
    assert caught.value.details["parameter"] == "email"
    with pytest.raises(ConflictError):
        await store.create_user(make_user(alice.id, "new@example.com"))


async def test_set_plan(store: SQLiteStore, alice: UserRecord) -> None:
    assert await store.set_plan("Alice@example.com", "enterprise") is True
    found = await store.get_user(alice.id)
    assert found is not None and found.plan == "enterprise"
    assert await store.set_plan("ghost@example.com", "free") is False


async def test_naive_datetimes_are_refused(store: SQLiteStore, make_user: UserFactory) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.create_user(make_user("usr_1", "n@example.com", created_at=datetime(2026, 1, 1)))


async def test_api_key_lifecycle(store: SQLiteStore, alice: UserRecord, api_key: KeyFactory) -> None:
    old = api_key("key_old", alice.id, created_at=T0)
    new = api_key("key_new", alice.id, created_at=T0 + timedelta(hours=1), rpm=30)
    await store.create_api_key(old)
    await store.create_api_key(new)
    assert await store.get_api_key_by_hash("hash-key_new") == new
    assert await store.list_api_keys(alice.id) == [new, old]

    assert await store.delete_api_key(alice.id, "key_new") is True
    assert await store.get_api_key_by_hash("hash-key_new") is None
    assert await store.list_api_keys(alice.id) == [old]
    assert await store.delete_api_key(alice.id, "key_new") is False
    assert await store.delete_api_key(alice.id, "key_never") is False


async def test_keys_are_private_to_their_owner(
    store: SQLiteStore, alice: UserRecord, bob: UserRecord, api_key: KeyFactory
) -> None:
    key = api_key("key_a", alice.id)
    await store.create_api_key(key)
    assert await store.list_api_keys(bob.id) == []
    assert await store.delete_api_key(bob.id, "key_a") is False
    assert await store.get_api_key_by_hash(key.key_hash) == key


async def test_api_key_conflicts_and_unknown_user(
    store: SQLiteStore, alice: UserRecord, api_key: KeyFactory
) -> None:
    await store.create_api_key(api_key("key_a", alice.id))
    with pytest.raises(ConflictError):
        await store.create_api_key(replace(api_key("key_b", alice.id), key_hash="hash-key_a"))
    with pytest.raises(ConflictError):
        await store.create_api_key(replace(api_key("key_a", alice.id), key_hash="other"))
    with pytest.raises(NotFoundError):
        await store.create_api_key(api_key("key_c", "usr_ghost"))


async def test_touch_only_moves_last_used_forward(
    store: SQLiteStore, alice: UserRecord, api_key: KeyFactory
) -> None:
    await store.create_api_key(api_key("key_a", alice.id))
    later = T0 + timedelta(minutes=5)
    await store.touch_api_key("key_a", later)
    await store.touch_api_key("key_a", T0 + timedelta(minutes=1))
    found = await store.get_api_key_by_hash("hash-key_a")
    assert found is not None and found.last_used == later


def turn(content: str, at: datetime, images: tuple[str, ...] = ()) -> tuple[StoredMessage, StoredMessage]:
    return (
        StoredMessage("user", content, at, images),
        StoredMessage("assistant", f"re: {content}", at + timedelta(seconds=1)),
    )


async def test_sessions_grow_in_order_and_keep_images(store: SQLiteStore, alice: UserRecord) -> None:
    assert await store.session_messages(alice.id, "s1") is None
    first = turn("hello", T0, images=("iVBORw0KGgo=", "R0lGODlh"))
    second = turn("again", T0 + timedelta(minutes=1))
    await store.append_turn(alice.id, "s1", *first)
    await store.append_turn(alice.id, "s1", *second)
    assert await store.session_messages(alice.id, "s1") == [*first, *second]


async def test_sessions_are_per_user(store: SQLiteStore, alice: UserRecord, bob: UserRecord) -> None:
    await store.append_turn(alice.id, "shared-id", *turn("alice's", T0))
    assert await store.session_messages(bob.id, "shared-id") is None
    await store.append_turn(bob.id, "shared-id", *turn("bob's", T0))
    alices = await store.session_messages(alice.id, "shared-id")
    bobs = await store.session_messages(bob.id, "shared-id")
    assert [m.content for m in alices or []] == ["alice's", "re: alice's"]
    assert [m.content for m in bobs or []] == ["bob's", "re: bob's"]


async def test_append_turn_is_atomic(store: SQLiteStore, alice: UserRecord, usage: UsageFactory) -> None:
    # A usage record naming an unknown user fails its foreign key after both messages went in.
    with pytest.raises(NotFoundError):
        await store.append_turn(alice.id, "s1", *turn("lost", T0), usage("req_1", "usr_ghost"))
    assert await store.session_messages(alice.id, "s1") is None

    await store.append_turn(alice.id, "s1", *turn("kept", T0), usage("req_2", alice.id))
    bad_status = replace(usage("req_3", alice.id), status="bogus")  # type: ignore[arg-type]
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        await store.append_turn(alice.id, "s1", *turn("lost too", T0), bad_status)
    messages = await store.session_messages(alice.id, "s1")
    assert [m.content for m in messages or []] == ["kept", "re: kept"]
    assert await store.count_requests(alice.id, T0) == 1


async def test_append_turn_with_usage_already_recorded(
    store: SQLiteStore, alice: UserRecord, usage: UsageFactory
) -> None:
    await store.record_usage(usage("req_1", alice.id, cost=0.5))
    await store.append_turn(alice.id, "s1", *turn("hi", T0), usage("req_1", alice.id, cost=9.0))
    assert len(await store.session_messages(alice.id, "s1") or []) == 2
    [day] = await store.daily_usage(alice.id, T0.date(), T0.date())
    assert (day.requests, day.cost_usd) == (1, 0.5)


async def test_unknown_user_cannot_open_a_session(store: SQLiteStore) -> None:
    with pytest.raises(NotFoundError):
        await store.append_turn("usr_ghost", "s1", *turn("hi", T0))
    assert await store.session_messages("usr_ghost", "s1") is None


async def test_closed_store_refuses_calls(db_path: object, t0: datetime) -> None:
    store = SQLiteStore(str(db_path))
    with pytest.raises(RuntimeError, match="not open"):
        await store.get_user("usr_1")
    await store.open()
    with pytest.raises(RuntimeError, match="already open"):
        await store.open()
    await store.close()
    await store.close()
    with pytest.raises(RuntimeError, match="not open"):
        await store.get_user("usr_1")
    assert t0 == T0


async def test_session_messages_can_return_only_the_newest(tmp_path: Path) -> None:
    """Long sessions are read from the newest end, still oldest first."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    async with SQLiteStore(tmp_path / "s.db") as store:
        await store.create_user(UserRecord("u1", "u1@example.com", "h", "free", now))
        for i in range(5):
            await store.append_turn(
                "u1", "s1", StoredMessage("user", f"q{i}", now), StoredMessage("assistant", f"a{i}", now)
            )
        newest = await store.session_messages("u1", "s1", newest=4)
        everything = await store.session_messages("u1", "s1")
    assert [m.content for m in newest or []] == ["q3", "a3", "q4", "a4"]
    assert len(everything or []) == 10
