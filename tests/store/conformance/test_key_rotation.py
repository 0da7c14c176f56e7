"""API key expiry and rotation: a new secret for the same key, the old one found with its grace's
end (then and after), the auth generation moved, every other field kept."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from aihub_core.errors import ConflictError
from aihub_core.store.base import RotatedSecret, Store, UserRecord
from tests.store.conformance.backends import Backend, opened
from tests.store.conftest import T0, KeyFactory


def _secret(name: str, grace: timedelta = timedelta(days=1)) -> RotatedSecret:
    return RotatedSecret(
        f"hash-{name}", f"ai-hub-{name}"[:12], T0 + timedelta(hours=2), T0 + timedelta(hours=2) + grace
    )


async def test_a_key_keeps_its_expiry(store: Store, alice: UserRecord, api_key: KeyFactory) -> None:
    key = replace(api_key("key_a", alice.id), expires_at=T0 + timedelta(days=30))
    await store.create_api_key(key)
    assert await store.get_api_key_by_hash(key.key_hash) == key
    assert await store.list_api_keys(alice.id) == [key]


async def test_rotation_replaces_the_secret_and_keeps_the_old_one_with_its_grace(
    store: Store, alice: UserRecord, api_key: KeyFactory
) -> None:
    key = replace(api_key("key_a", alice.id, rpm=7), expires_at=T0 + timedelta(days=30))
    await store.create_api_key(key)
    before = await store.auth_generation()

    rotated = await store.rotate_api_key(alice.id, "key_a", _secret("one"))
    assert rotated == replace(
        key, key_hash="hash-one", prefix="ai-hub-one", rotated_at=T0 + timedelta(hours=2)
    )
    assert await store.auth_generation() != before  # every process drops its cached key
    assert await store.get_api_key_by_hash("hash-one") == rotated
    assert await store.get_api_key_by_hash(key.key_hash) == replace(
        rotated, secret_expires_at=T0 + timedelta(hours=2, days=1)
    )
    assert await store.list_api_keys(alice.id) == [rotated]

    # A second rotation keeps each old secret's own grace; grace 0 ends it at the rotation.
    again = await store.rotate_api_key(alice.id, "key_a", _secret("two", timedelta(0)))
    assert again is not None and again.key_hash == "hash-two"
    first = await store.get_api_key_by_hash(key.key_hash)
    assert first is not None and first.secret_expires_at == T0 + timedelta(hours=2, days=1)
    second = await store.get_api_key_by_hash("hash-one")
    assert second is not None and second.secret_expires_at == T0 + timedelta(hours=2)
    assert second.key_hash == "hash-two"

    # Deleting the key ends every secret of it.
    assert await store.delete_api_key(alice.id, "key_a")
    for old in (key.key_hash, "hash-one", "hash-two"):
        assert await store.get_api_key_by_hash(old) is None


async def test_only_the_owner_rotates_a_live_key(
    store: Store, alice: UserRecord, bob: UserRecord, api_key: KeyFactory
) -> None:
    await store.create_api_key(api_key("key_a", alice.id))
    await store.create_api_key(api_key("key_b", alice.id))
    assert await store.rotate_api_key(bob.id, "key_a", _secret("x")) is None
    assert await store.rotate_api_key(alice.id, "key_none", _secret("x")) is None
    with pytest.raises(ConflictError):
        await store.rotate_api_key(alice.id, "key_a", _secret("key_b"))  # key_b's live hash
    await store.rotate_api_key(alice.id, "key_a", _secret("y"))
    with pytest.raises(ConflictError):
        await store.rotate_api_key(alice.id, "key_b", _secret("key_a"))  # key_a's old hash
    assert (await store.get_api_key_by_hash("hash-key_b")) is not None  # a refused rotation changed nothing
    await store.delete_api_key(alice.id, "key_a")
    assert await store.rotate_api_key(alice.id, "key_a", _secret("z")) is None
    with pytest.raises(ValueError):
        await store.rotate_api_key(
            alice.id, "key_b", replace(_secret("w"), rotated_at=T0.replace(tzinfo=None))
        )


async def test_another_store_sees_a_rotation_at_once(
    backend: Backend, store: Store, alice: UserRecord, api_key: KeyFactory
) -> None:
    await store.create_api_key(api_key("key_a", alice.id))
    async with opened(backend.store()) as other:
        seen = await other.auth_generation()
        await store.rotate_api_key(alice.id, "key_a", _secret("new", timedelta(0)))
        assert await other.auth_generation() != seen
        old = await other.get_api_key_by_hash("hash-key_a")
        assert old is not None and old.secret_expires_at == T0 + timedelta(hours=2)
