"""The PostgreSQL store's Idempotency-Key claims (`protocols.idempotency`)."""

from __future__ import annotations

from datetime import datetime

from aihub_core.errors import ServiceUnavailableError
from aihub_core.store import rows
from aihub_core.store.postgres import _idempotency
from aihub_core.store.postgres._connection import PostgresConnection
from aihub_core.store.records import IdempotencyRecord


class PostgresIdempotency(PostgresConnection):
    """`IdempotencyStore` on PostgreSQL."""

    async def claim_idempotency_key(
        self, claim: IdempotencyRecord, expired_before: datetime
    ) -> IdempotencyRecord | None:
        """Claim a key for a call (None), or return the live claim already holding it."""
        rows.utc(expired_before)
        return await self._call(_idempotency.claim_idempotency_key, claim, expired_before, self._owner)

    async def complete_idempotency_key(self, user_id: str, key: str, response: bytes) -> None:
        """Store the answer of a claimed key's call, for replays."""
        await self._call(_idempotency.complete_idempotency_key, user_id, key, response)

    async def release_idempotency_key(self, user_id: str, key: str) -> None:
        """Drop a pending claim whose call failed, so a retry runs afresh (at the next recovery, if
        the database cannot be reached now)."""
        try:
            await self._call(_idempotency.release_idempotency_key, user_id, key)
        except ServiceUnavailableError:
            self._orphans.claims.add((user_id, key))
            raise
