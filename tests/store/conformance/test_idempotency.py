"""Idempotency-Key claims: claimed once per user and key, answered, released, expired."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from aihub_core.store.base import IdempotencyRecord, Store, UserRecord


async def test_idempotency_claims_complete_release_and_expire(store: Store) -> None:
    """A key is claimed once; the holder's answer is stored; a failed claim or an expired one frees it."""
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    await store.create_user(UserRecord("u1", "u1@example.com", "h", "free", t0))
    claim = IdempotencyRecord("u1", "k", "hash-a", "req_1", t0)
    assert await store.claim_idempotency_key(claim, t0 - timedelta(days=1)) is None
    held = await store.claim_idempotency_key(replace(claim, request_id="req_2"), t0 - timedelta(days=1))
    assert held is not None and (held.request_id, held.done) == ("req_1", False)
    await store.release_idempotency_key("u1", "k")
    assert await store.claim_idempotency_key(claim, t0 - timedelta(days=1)) is None
    await store.complete_idempotency_key("u1", "k", b"answer")
    await store.release_idempotency_key("u1", "k")  # a finished claim is not released
    held = await store.claim_idempotency_key(replace(claim, request_hash="hash-b"), t0 - timedelta(days=1))
    assert held is not None and held.response == b"answer" and held.request_hash == "hash-a"
    later = replace(claim, created_at=t0 + timedelta(days=2), request_id="req_3")
    assert await store.claim_idempotency_key(later, t0 + timedelta(days=1)) is None  # the old one expired


async def test_a_pending_claim_holds_against_another_fingerprint_as_it_was_claimed(
    store: Store, alice: UserRecord, t0: datetime
) -> None:
    first = IdempotencyRecord(alice.id, "k", "hash-a", "req_1", t0)
    assert await store.claim_idempotency_key(first, t0) is None
    other = IdempotencyRecord(alice.id, "k", "hash-b", "req_2", t0 + timedelta(seconds=1))
    assert await store.claim_idempotency_key(other, t0) == first


async def test_keys_are_per_user(store: Store, alice: UserRecord, bob: UserRecord, t0: datetime) -> None:
    alices = IdempotencyRecord(alice.id, "same-key", "hash-a", "req_a", t0)
    bobs = IdempotencyRecord(bob.id, "same-key", "hash-b", "req_b", t0)
    assert await store.claim_idempotency_key(alices, t0) is None
    assert await store.claim_idempotency_key(bobs, t0) is None
    await store.complete_idempotency_key(alice.id, "same-key", b"alice's answer")
    await store.release_idempotency_key(alice.id, "same-key")  # done: stays
    await store.release_idempotency_key(bob.id, "same-key")  # pending: dropped, alice's untouched
    held = await store.claim_idempotency_key(replace(alices, request_id="req_a2"), t0)
    assert held == replace(alices, response=b"alice's answer")
    assert await store.claim_idempotency_key(replace(bobs, request_id="req_b2"), t0) is None


async def test_answers_are_kept_byte_for_byte(store: Store, alice: UserRecord, t0: datetime) -> None:
    answer = bytes(range(256)) + b"\x00\xff" * 1000
    assert await store.claim_idempotency_key(IdempotencyRecord(alice.id, "k", "h", "r", t0), t0) is None
    await store.complete_idempotency_key(alice.id, "k", answer)
    held = await store.claim_idempotency_key(IdempotencyRecord(alice.id, "k", "h", "r2", t0), t0)
    assert held is not None and held.done and held.response == answer


async def test_a_claim_expires_only_strictly_before_the_limit(
    store: Store, alice: UserRecord, t0: datetime
) -> None:
    first = IdempotencyRecord(alice.id, "k", "h", "req_1", t0)
    assert await store.claim_idempotency_key(first, t0) is None
    again = replace(first, request_id="req_2")
    assert await store.claim_idempotency_key(again, t0) == first  # made at the limit: still live
    assert await store.claim_idempotency_key(again, t0 + timedelta(microseconds=1)) is None
