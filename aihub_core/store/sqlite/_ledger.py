"""The SQLite store's ledger writes and sessions (`protocols.ledger`, `protocols.sessions`): a
reservation, a settlement (once), a session's turn settled with its call; and a session's turns."""

from __future__ import annotations

import sqlite3

from aihub_core.store import rows
from aihub_core.store.records import StoredMessage, UsageRecord
from aihub_core.store.sqlite import _codec as codec
from aihub_core.store.sqlite._atomic import atomic
from aihub_core.store.sqlite._queries import insert, one, translate
from aihub_core.store.sqlite._sqlite_utils import Database

# ON CONFLICT names the key: unlike INSERT OR IGNORE it does not also swallow a CHECK failure.
_ONCE_PER_REQUEST = "ON CONFLICT (request_id) DO NOTHING"
# A settlement fills in its call's pending row; the WHERE leaves a settled row as it is (settle
# once), and never lets one user's record touch another's. The reservation keeps its created_at
# (when the call was admitted, the moment the quota counted it) and key.
_SETTLED = (
    "service",
    "model",
    "prompt_tokens",
    "completion_tokens",
    "cost_pico_usd",
    "status",
    "usage_source",
    "session_id",
    "response_time_ms",
    "settled_at",
)
_SETTLE_ONCE = (
    "ON CONFLICT (request_id) DO UPDATE SET "
    + ", ".join(f"{column} = excluded.{column}" for column in _SETTLED)
    + " WHERE usage_records.status = 'pending' AND usage_records.user_id = excluded.user_id"
)
_SESSION_UPSERT = "ON CONFLICT (user_id, session_id) DO UPDATE SET updated_at = excluded.updated_at"


def session_messages(
    db: Database, user_id: str, session_id: str, newest: int | None = None
) -> list[StoredMessage] | None:
    """The session's turns (only the `newest` if given), oldest first; None if there is no such session."""
    key = [user_id, session_id]
    if one(db, "SELECT 1 AS found FROM sessions WHERE user_id = ? AND session_id = ?", key) is None:
        return None
    sql = "SELECT * FROM messages WHERE user_id = ? AND session_id = ? ORDER BY id DESC LIMIT ?"
    found = db.query(sql, [*key, -1 if newest is None else newest])
    return [codec.message_from_row(row) for row in found][::-1]


def append_turn(
    db: Database,
    user_id: str,
    session_id: str,
    user_message: StoredMessage,
    assistant_message: StoredMessage,
    usage: UsageRecord | None,
) -> None:
    """Store a turn, its answer, the session row and the usage settlement in one transaction."""
    # Encode everything first, so that a bad value fails before the transaction starts.
    messages = [
        codec.to_sqlite(rows.message_row(user_id, session_id, m)) for m in (user_message, assistant_message)
    ]
    usage_row = codec.to_sqlite(rows.settled_row(usage)) if usage else None
    session = {
        "user_id": user_id,
        "session_id": session_id,
        "created_at": messages[0]["created_at"],
        "updated_at": messages[1]["created_at"],
    }
    try:
        with atomic(db):
            insert(db, "sessions", session, _SESSION_UPSERT)
            for row in messages:
                insert(db, "messages", row)
            if usage_row is not None:
                insert(db, "usage_records", usage_row, _SETTLE_ONCE)
    except sqlite3.IntegrityError as exc:
        raise translate(exc) from None


def reserve_usage(db: Database, record: UsageRecord, owner: str | None = None) -> None:
    """Insert the pending row of an admitted call, unless its request id is in the ledger already."""
    try:
        insert(db, "usage_records", codec.to_sqlite(rows.reservation_row(record, owner)), _ONCE_PER_REQUEST)
    except sqlite3.IntegrityError as exc:
        raise translate(exc) from None


def record_usage(db: Database, record: UsageRecord) -> None:
    """Settle a call: fill in its pending row, or insert the record if there is none; once."""
    try:
        insert(db, "usage_records", codec.to_sqlite(rows.settled_row(record)), _SETTLE_ONCE)
    except sqlite3.IntegrityError as exc:
        raise translate(exc) from None
