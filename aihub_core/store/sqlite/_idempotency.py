"""The SQLite store's SQL of idempotency keys (worker thread only, like `_queries`)."""

from __future__ import annotations

from typing import Any

from aihub_core.store import rows
from aihub_core.store.records import IdempotencyRecord
from aihub_core.store.sqlite import _codec as codec
from aihub_core.store.sqlite import _queries as q
from aihub_core.store.sqlite._atomic import atomic
from aihub_core.store.sqlite._sqlite_utils import Database


def _from_row(row: dict[str, Any]) -> IdempotencyRecord:
    return IdempotencyRecord(
        user_id=row["user_id"],
        key=row["key"],
        request_hash=row["request_hash"],
        request_id=row["request_id"],
        created_at=codec.decode_time(row["created_at"]),
        response=row["response"],
    )


def claim(
    db: Database, record: IdempotencyRecord, expired_before: str, owner: str | None = None
) -> IdempotencyRecord | None:
    """Insert the claim, or return the live one holding the key (an expired one is replaced)."""
    with atomic(db):
        db.execute(
            "DELETE FROM idempotency_keys WHERE user_id = ? AND key = ? AND created_at < ?",
            [record.user_id, record.key, expired_before],
        )
        row = codec.to_sqlite(rows.claim_row(record, owner))
        if q.insert(db, "idempotency_keys", row, "ON CONFLICT (user_id, key) DO NOTHING"):
            return None
        held = list(
            db.query(
                "SELECT * FROM idempotency_keys WHERE user_id = ? AND key = ?", [record.user_id, record.key]
            )
        )
    return _from_row(held[0])


def complete(db: Database, user_id: str, key: str, response: bytes) -> None:
    """Store the answer; the claim becomes replayable."""
    with atomic(db):
        db.execute(
            "UPDATE idempotency_keys SET state = 'done', response = ? WHERE user_id = ? AND key = ?",
            [response, user_id, key],
        )


def release(db: Database, user_id: str, key: str) -> None:
    """Drop a pending claim (a finished one stays: its answer was given)."""
    with atomic(db):
        db.execute(
            "DELETE FROM idempotency_keys WHERE user_id = ? AND key = ? AND state = 'pending'", [user_id, key]
        )
