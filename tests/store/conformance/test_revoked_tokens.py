"""Login tokens revoked by a log-out: refused by every store sharing the database until they
expire; revoking twice is harmless; expired revocations are forgotten."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aihub_core.store.base import Store, StoreOptions, UserRecord
from tests.store.conformance.backends import Backend, opened

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


async def test_a_revoked_token_is_refused_by_every_store_until_it_expires(
    store: Store, alice: UserRecord, backend: Backend
) -> None:
    assert not await store.token_revoked("jti_1")
    before, generation = await store.revocations(), await store.auth_generation()
    await store.revoke_token("jti_1", alice.id, NOW + timedelta(hours=1), NOW)
    # The log-out counter moved, for every store; the auth generation (API keys' caches) did not.
    assert await store.revocations() > before
    assert await store.auth_generation() == generation
    await store.revoke_token("jti_1", alice.id, NOW + timedelta(hours=1), NOW)  # twice: no error
    assert await store.token_revoked("jti_1")
    assert not await store.token_revoked("jti_2")
    async with opened(backend.store(StoreOptions(keep_lease=False))) as sibling:
        assert await sibling.token_revoked("jti_1")
        counted = await store.revocations()
        assert await sibling.revocations() == counted
        # A later log-out forgets the revocations that have expired, and only those.
        await sibling.revoke_token("jti_2", alice.id, NOW + timedelta(hours=3), NOW + timedelta(hours=2))
    assert not await store.token_revoked("jti_1")
    assert await store.token_revoked("jti_2")
    assert await store.revocations() > counted


async def test_naive_times_are_refused(store: Store, alice: UserRecord) -> None:
    with pytest.raises(ValueError):
        await store.revoke_token("jti_1", alice.id, datetime(2026, 12, 3), NOW)
