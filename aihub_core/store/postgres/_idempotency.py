"""The PostgreSQL store's Idempotency-Key claims (`protocols.idempotency`), as plain async
functions of a pooled connection."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from aihub_core.store import rows
from aihub_core.store.records import IdempotencyRecord

if TYPE_CHECKING:
    from aihub_core.store.postgres._queries import Conn

_CLAIM = """
INSERT INTO idempotency_keys AS k (user_id, key, request_hash, request_id, state, created_at, owner)
VALUES ($1, $2, $3, $4, 'pending', $5, $6)
ON CONFLICT (user_id, key) DO UPDATE SET request_hash = excluded.request_hash,
    request_id = excluded.request_id, state = 'pending', response = NULL,
    created_at = excluded.created_at, owner = excluded.owner
WHERE k.created_at < $7
RETURNING 1
"""


async def claim_idempotency_key(
    conn: Conn, claim: IdempotencyRecord, expired_before: datetime, owner: str
) -> IdempotencyRecord | None:
    """Claim the key (replacing an expired claim) or return the live claim holding it."""
    row = rows.claim_row(claim, owner)
    expired = rows.utc(expired_before)
    while True:
        claimed = await conn.fetchval(
            _CLAIM,
            row["user_id"],
            row["key"],
            row["request_hash"],
            row["request_id"],
            row["created_at"],
            owner,
            expired,
        )
        if claimed is not None:
            return None
        held = await conn.fetchrow(
            "SELECT * FROM idempotency_keys WHERE user_id = $1 AND key = $2", claim.user_id, claim.key
        )
        if held is not None:
            return IdempotencyRecord(
                held["user_id"],
                held["key"],
                held["request_hash"],
                held["request_id"],
                held["created_at"],
                None if held["response"] is None else bytes(held["response"]),
            )
        # Released between the two statements: claim again.


async def complete_idempotency_key(conn: Conn, user_id: str, key: str, response: bytes) -> None:
    """Store the answer; the claim becomes replayable."""
    sql = "UPDATE idempotency_keys SET state = 'done', response = $1 WHERE user_id = $2 AND key = $3"
    await conn.execute(sql, response, user_id, key)


async def release_idempotency_key(conn: Conn, user_id: str, key: str) -> None:
    """Drop a pending claim (a finished one stays: its answer was given)."""
    sql = "DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND state = 'pending'"
    await conn.execute(sql, user_id, key)
