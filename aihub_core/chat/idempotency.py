"""Idempotency-Key: a retried call gets the stored answer instead of running, and being charged,
again. Keys are per user and live 24 hours; the same key with a different request is refused."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from aihub_core.errors import ConflictError, InvalidRequestError
from aihub_core.identity import Caller
from aihub_core.store.base import IdempotencyRecord, Store

KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
TTL = timedelta(hours=24)
PARAM = "Idempotency-Key"


class Idempotency:
    """Claims keys for calls, stores their answers and hands them back to retries."""

    def __init__(self, store: Store, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._store = store
        self._now = now

    async def begin(
        self, caller: Caller, key: str, method: str, request: bytes, request_id: str
    ) -> bytes | None:
        """None: this call now owns the key and must `finish` or `abandon` it. Bytes: the stored
        answer of an earlier call with the same key and request, to replay without a charge."""
        if not KEY.match(key):
            raise InvalidRequestError(
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
                code="invalid_idempotency_key",
                param=PARAM,
            )
        digest = hashlib.sha256(method.encode() + b"\0" + request).hexdigest()
        now = self._now()
        claim = IdempotencyRecord(caller.user_id, key, digest, request_id, now)
        held = await self._store.claim_idempotency_key(claim, now - TTL)
        if held is None:
            return None
        if held.request_hash != digest:
            raise InvalidRequestError(
                "This Idempotency-Key was used with a different request",
                code="idempotency_key_reused",
                param=PARAM,
                suggestion="Use a new key for a new request",
            )
        if held.response is None:
            raise ConflictError(
                f"A request with this Idempotency-Key is still running ({held.request_id})",
                code="idempotency_key_in_progress",
                param=PARAM,
                suggestion="Retry after it has finished to get its answer",
            )
        return held.response

    async def finish(self, caller: Caller, key: str, answer: bytes) -> None:
        """Store the answer of the call that owns the key."""
        await self._store.complete_idempotency_key(caller.user_id, key, answer)

    async def abandon(self, caller: Caller, key: str) -> None:
        """The owning call failed: free the key so a retry runs afresh."""
        await self._store.release_idempotency_key(caller.user_id, key)
