"""Users: round trip in UTC, emails compared case-insensitively, plans, naive times refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from aihub_core.errors import ConflictError
from aihub_core.store.base import IdempotencyRecord, Store, UserRecord
from tests.store.conftest import KeyFactory, UsageFactory, UserFactory, pending


async def test_user_round_trip_with_utc_times(store: Store, make_user: UserFactory) -> None:
    paris = timezone(timedelta(hours=2))
    user = make_user("usr_1", "Ann@Example.com", created_at=datetime(2026, 4, 1, 1, 30, tzinfo=paris))
    await store.create_user(user)
    found = await store.get_user("usr_1")
    assert found == replace(user, email="ann@example.com")
    assert found is not None and found.created_at.tzinfo == UTC
    assert found.created_at == datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    assert await store.get_user("usr_missing") is None


async def test_times_keep_their_microseconds(store: Store, make_user: UserFactory) -> None:
    at = datetime(2026, 3, 31, 23, 59, 59, 999_999, tzinfo=UTC)
    await store.create_user(make_user("usr_1", "a@example.com", created_at=at))
    found = await store.get_user("usr_1")
    assert found is not None and found.created_at == at


async def test_email_is_case_insensitive(store: Store, make_user: UserFactory, alice: UserRecord) -> None:
    assert await store.get_user_by_email("ALICE@example.COM") == alice
    with pytest.raises(ConflictError) as caught:
        await store.create_user(make_user("usr_other", "Alice@Example.com"))
    assert caught.value.details["parameter"] == "email"
    with pytest.raises(ConflictError):
        await store.create_user(make_user(alice.id, "new@example.com"))


async def test_emails_fold_beyond_ascii_and_lose_surrounding_spaces(
    store: Store, make_user: UserFactory
) -> None:
    await store.create_user(make_user("usr_1", " Élodie.Ünal@Example.COM "))
    found = await store.get_user_by_email("élodie.ünal@example.com")
    assert found is not None and (found.id, found.email) == ("usr_1", "élodie.ünal@example.com")
    assert await store.get_user_by_email("ÉLODIE.ÜNAL@EXAMPLE.COM ") == found
    with pytest.raises(ConflictError):
        await store.create_user(make_user("usr_2", "ÉLODIE.ünal@example.com"))
    assert await store.get_user_by_email("nobody@example.com") is None


async def test_set_plan(store: Store, alice: UserRecord) -> None:
    assert await store.set_plan("Alice@example.com", "enterprise") is True
    found = await store.get_user(alice.id)
    assert found is not None and found.plan == "enterprise"
    assert await store.set_plan("ghost@example.com", "free") is False


async def test_a_user_is_a_user_until_made_an_admin(store: Store, alice: UserRecord) -> None:
    assert alice.role == "user"
    assert await store.get_user(alice.id) == alice
    assert await store.set_role("ALICE@example.com", "admin") is True
    found = await store.get_user_by_email("alice@example.com")
    assert found is not None and found.role == "admin" and found.plan == alice.plan
    assert await store.set_role("alice@example.com", "user") is True
    found = await store.get_user(alice.id)
    assert found is not None and found.role == "user"
    assert await store.set_role("ghost@example.com", "admin") is False


async def test_list_users_oldest_first(store: Store, make_user: UserFactory) -> None:
    assert await store.list_users() == []
    at = datetime(2026, 4, 1, tzinfo=UTC)
    for user_id, email, minutes in (
        ("usr_b", "b@example.com", 5),
        ("usr_c", "c@example.com", 0),
        ("usr_a", "a@example.com", 5),
    ):
        await store.create_user(make_user(user_id, email, created_at=at + timedelta(minutes=minutes)))
    await store.set_role("c@example.com", "admin")
    listed = await store.list_users()
    assert [(u.id, u.role) for u in listed] == [("usr_c", "admin"), ("usr_a", "user"), ("usr_b", "user")]
    assert listed[1] == await store.get_user("usr_a")


async def test_naive_datetimes_are_refused(store: Store, make_user: UserFactory) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.create_user(make_user("usr_1", "n@example.com", created_at=datetime(2026, 1, 1)))


async def test_naive_datetimes_are_refused_by_every_write_and_query(
    store: Store, alice: UserRecord, api_key: KeyFactory, usage: UsageFactory, t0: datetime
) -> None:
    naive = datetime(2026, 1, 1)
    await store.create_api_key(api_key("key_1", alice.id))
    refused = [
        store.create_api_key(api_key("key_2", alice.id, created_at=naive)),
        store.touch_api_key("key_1", naive),
        store.reserve_usage(pending(usage, "req_1", alice.id, naive)),
        store.record_usage(usage("req_2", alice.id, created_at=naive)),
        store.count_requests(alice.id, naive),
        store.claim_idempotency_key(IdempotencyRecord(alice.id, "k", "h", "r", naive), t0),
        store.claim_idempotency_key(IdempotencyRecord(alice.id, "k", "h", "r", t0), naive),
    ]
    for call in refused:
        with pytest.raises(ValueError, match="timezone-aware"):
            await call
    assert await store.count_requests(alice.id, datetime(2000, 1, 1, tzinfo=UTC)) == 0
    assert [k.id for k in await store.list_api_keys(alice.id)] == ["key_1"]
