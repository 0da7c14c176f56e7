"""API keys: found by hash while live, listed newest first, private to their user, deleted once."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from aihub_core.errors import ConflictError, NotFoundError
from aihub_core.store.base import Store, UserRecord
from tests.store.conftest import T0, KeyFactory


async def test_api_key_lifecycle(store: Store, alice: UserRecord, api_key: KeyFactory) -> None:
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
    store: Store, alice: UserRecord, bob: UserRecord, api_key: KeyFactory
) -> None:
    key = api_key("key_a", alice.id)
    await store.create_api_key(key)
    assert await store.list_api_keys(bob.id) == []
    assert await store.delete_api_key(bob.id, "key_a") is False
    assert await store.get_api_key_by_hash(key.key_hash) == key


async def test_api_key_conflicts_and_unknown_user(
    store: Store, alice: UserRecord, api_key: KeyFactory
) -> None:
    await store.create_api_key(api_key("key_a", alice.id))
    with pytest.raises(ConflictError):
        await store.create_api_key(replace(api_key("key_b", alice.id), key_hash="hash-key_a"))
    with pytest.raises(ConflictError):
        await store.create_api_key(replace(api_key("key_a", alice.id), key_hash="other"))
    with pytest.raises(NotFoundError):
        await store.create_api_key(api_key("key_c", "usr_ghost"))


async def test_a_deleted_keys_hash_is_never_issued_again(
    store: Store, alice: UserRecord, api_key: KeyFactory
) -> None:
    await store.create_api_key(api_key("key_a", alice.id))
    assert await store.delete_api_key(alice.id, "key_a")
    with pytest.raises(ConflictError):
        await store.create_api_key(replace(api_key("key_b", alice.id), key_hash="hash-key_a"))
    assert await store.get_api_key_by_hash("hash-key_a") is None
    assert await store.list_api_keys(alice.id) == []


async def test_a_key_keeps_its_permissions_and_limit(
    store: Store, alice: UserRecord, api_key: KeyFactory
) -> None:
    for permissions, rpm in (((), None), (("chat",), 1), (("usage", "chat", "keys"), 600)):
        key = replace(api_key(f"key_{rpm}", alice.id, rpm=rpm), permissions=permissions, key_hash=f"h{rpm}")
        await store.create_api_key(key)
        assert await store.get_api_key_by_hash(f"h{rpm}") == key


async def test_touch_only_moves_last_used_forward(
    store: Store, alice: UserRecord, api_key: KeyFactory
) -> None:
    await store.create_api_key(api_key("key_a", alice.id))
    later = T0 + timedelta(minutes=5)
    await store.touch_api_key("key_a", later)
    await store.touch_api_key("key_a", T0 + timedelta(minutes=1))
    found = await store.get_api_key_by_hash("hash-key_a")
    assert found is not None and found.last_used == later
