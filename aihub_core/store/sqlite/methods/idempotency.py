"""The SQLite store's Idempotency-Key claims (`protocols.idempotency`)."""

from __future__ import annotations

from datetime import datetime

from aihub_core.store.records import IdempotencyRecord
from aihub_core.store.sqlite import _codec as codec
from aihub_core.store.sqlite import _idempotency as idem
from aihub_core.store.sqlite._connection import SQLiteConnection


class SQLiteIdempotency(SQLiteConnection):
    """`IdempotencyStore` on SQLite."""

    async def claim_idempotency_key(
        self, claim: IdempotencyRecord, expired_before: datetime
    ) -> IdempotencyRecord | None:
        """Claim a key for a call (None), or return the live claim already holding it."""
        return await self._call(idem.claim, claim, codec.encode_time(expired_before), self._owner)

    async def complete_idempotency_key(self, user_id: str, key: str, response: bytes) -> None:
        """Store the answer of a claimed key's call, for replays."""
        await self._call(idem.complete, user_id, key, response)

    async def release_idempotency_key(self, user_id: str, key: str) -> None:
        """Drop a pending claim whose call failed, so a retry runs afresh."""
        await self._call(idem.release, user_id, key)
