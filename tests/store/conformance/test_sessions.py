"""Sessions: turns kept in order with their images, per user, appended atomically with their usage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aihub_core.errors import NotFoundError
from aihub_core.store.base import Store, StoredMessage, UserRecord
from tests.store.conftest import T0, UsageFactory, pico


def turn(content: str, at: datetime, images: tuple[str, ...] = ()) -> tuple[StoredMessage, StoredMessage]:
    return (
        StoredMessage("user", content, at, images),
        StoredMessage("assistant", f"re: {content}", at + timedelta(seconds=1)),
    )


async def test_sessions_grow_in_order_and_keep_images(store: Store, alice: UserRecord) -> None:
    assert await store.session_messages(alice.id, "s1") is None
    first = turn("hello", T0, images=("iVBORw0KGgo=", "R0lGODlh"))
    second = turn("again", T0 + timedelta(minutes=1))
    await store.append_turn(alice.id, "s1", *first)
    await store.append_turn(alice.id, "s1", *second)
    assert await store.session_messages(alice.id, "s1") == [*first, *second]


async def test_turns_keep_the_order_they_were_appended_in_whatever_their_times(
    store: Store, alice: UserRecord
) -> None:
    later, earlier = turn("later", T0 + timedelta(hours=1)), turn("earlier", T0)
    await store.append_turn(alice.id, "s1", *later)
    await store.append_turn(alice.id, "s1", *earlier)
    assert await store.session_messages(alice.id, "s1") == [*later, *earlier]


async def test_sessions_are_per_user(store: Store, alice: UserRecord, bob: UserRecord) -> None:
    await store.append_turn(alice.id, "shared-id", *turn("alice's", T0))
    assert await store.session_messages(bob.id, "shared-id") is None
    await store.append_turn(bob.id, "shared-id", *turn("bob's", T0))
    alices = await store.session_messages(alice.id, "shared-id")
    bobs = await store.session_messages(bob.id, "shared-id")
    assert [m.content for m in alices or []] == ["alice's", "re: alice's"]
    assert [m.content for m in bobs or []] == ["bob's", "re: bob's"]


async def test_append_turn_is_atomic(store: Store, alice: UserRecord, usage: UsageFactory) -> None:
    # A usage record naming an unknown user fails its foreign key after both messages went in.
    with pytest.raises(NotFoundError):
        await store.append_turn(alice.id, "s1", *turn("lost", T0), usage("req_1", "usr_ghost"))
    assert await store.session_messages(alice.id, "s1") is None

    await store.append_turn(alice.id, "s1", *turn("kept", T0), usage("req_2", alice.id))
    with pytest.raises(NotFoundError):
        await store.append_turn(alice.id, "s1", *turn("lost too", T0), usage("req_3", "usr_ghost"))
    messages = await store.session_messages(alice.id, "s1")
    assert [m.content for m in messages or []] == ["kept", "re: kept"]
    assert await store.count_requests(alice.id, T0) == 1


async def test_append_turn_with_usage_already_recorded(
    store: Store, alice: UserRecord, usage: UsageFactory
) -> None:
    await store.record_usage(usage("req_1", alice.id, cost=0.5))
    await store.append_turn(alice.id, "s1", *turn("hi", T0), usage("req_1", alice.id, cost=9.0))
    assert len(await store.session_messages(alice.id, "s1") or []) == 2
    [day] = await store.daily_usage(alice.id, T0.date(), T0.date())
    assert (day.requests, day.cost_pico_usd) == (1, pico(0.5))


async def test_unknown_user_cannot_open_a_session(store: Store) -> None:
    with pytest.raises(NotFoundError):
        await store.append_turn("usr_ghost", "s1", *turn("hi", T0))
    assert await store.session_messages("usr_ghost", "s1") is None


async def test_session_messages_can_return_only_the_newest(store: Store) -> None:
    """Long sessions are read from the newest end, still oldest first."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    await store.create_user(UserRecord("u1", "u1@example.com", "h", "free", now))
    for i in range(5):
        await store.append_turn(
            "u1", "s1", StoredMessage("user", f"q{i}", now), StoredMessage("assistant", f"a{i}", now)
        )
    newest = await store.session_messages("u1", "s1", newest=4)
    everything = await store.session_messages("u1", "s1")
    assert [m.content for m in newest or []] == ["q3", "a3", "q4", "a4"]
    assert len(everything or []) == 10
