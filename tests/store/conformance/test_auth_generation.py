"""The auth generation: moved by exactly the auth-relevant writes, whichever store makes them."""

from __future__ import annotations

from datetime import timedelta

from aihub_core.store.base import Store
from tests.store.conformance.backends import Backend, opened
from tests.store.conftest import KeyFactory, UsageFactory, UserFactory


async def test_only_auth_relevant_writes_move_the_generation(
    store: Store, make_user: UserFactory, api_key: KeyFactory, usage: UsageFactory
) -> None:
    start = await store.auth_generation()
    # New users and keys, key use and the ledger change nothing a cache holds.
    await store.create_user(make_user("usr_a", "a@example.com"))
    await store.create_api_key(api_key("key_1", "usr_a"))
    await store.create_api_key(api_key("key_2", "usr_a"))
    key = await store.get_api_key_by_hash("hash-key_1")
    assert key is not None
    await store.touch_api_key("key_1", key.created_at + timedelta(minutes=5))
    await store.record_usage(usage("req_1", "usr_a"))
    assert await store.auth_generation() == start

    assert await store.set_plan("A@example.com", "enterprise")
    after_plan = await store.auth_generation()
    assert after_plan != start
    assert await store.set_role("a@example.com", "admin")
    after_role = await store.auth_generation()
    assert after_role != after_plan
    assert await store.delete_api_key("usr_a", "key_1")
    after_delete = await store.auth_generation()
    assert after_delete != after_role
    # Writes that change nothing (no such user, key already gone) need not move it.
    assert not await store.set_plan("nobody@example.com", "free")
    assert not await store.delete_api_key("usr_a", "key_1")
    assert await store.auth_generation() == after_delete


async def test_another_stores_writes_are_seen_at_once(
    backend: Backend, make_user: UserFactory, api_key: KeyFactory
) -> None:
    async with opened(backend.store()) as server, opened(backend.store()) as cli:
        await server.create_user(make_user("usr_a", "a@example.com"))
        await server.create_api_key(api_key("key_1", "usr_a"))
        before = await server.auth_generation()
        assert await cli.set_plan("a@example.com", "professional")
        after_plan = await server.auth_generation()
        assert after_plan != before
        found = await server.get_user("usr_a")
        assert found is not None and found.plan == "professional"
        assert await cli.delete_api_key("usr_a", "key_1")
        assert await server.auth_generation() != after_plan
        assert await server.get_api_key_by_hash("hash-key_1") is None
