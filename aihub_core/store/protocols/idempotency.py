"""Idempotency-Key claims: a key claimed for one call, its answer kept for replays."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from aihub_core.store.records import IdempotencyRecord


class IdempotencyStore(Protocol):
    """Idempotency-Key claims, per user."""

    async def claim_idempotency_key(
        self, claim: IdempotencyRecord, expired_before: datetime
    ) -> IdempotencyRecord | None:
        """Claim a key for a call (None), tagged with the store's lease, or return the live claim
        already holding it, as it was claimed (its request hash and id, and its answer once
        done), whatever the new claim's request hash. A claim made before `expired_before` (strictly)
        is dropped first, so keys can be reused after they expire. Keys are per user."""
        ...

    async def complete_idempotency_key(self, user_id: str, key: str, response: bytes) -> None:
        """Store the answer (any bytes) of a claimed key's call, for replays."""
        ...

    async def release_idempotency_key(self, user_id: str, key: str) -> None:
        """Drop a pending claim whose call failed, so a retry runs afresh; a done claim stays."""
        ...
