"""The PostgreSQL store's reads of sessions (`protocols.sessions`); a turn is written by the
ledger's group commit (`_ledger`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Literal, cast

from aihub_core.store.records import StoredMessage

if TYPE_CHECKING:
    from aihub_core.store.postgres._queries import Conn


async def session_messages(
    conn: Conn, user_id: str, session_id: str, newest: int | None
) -> list[StoredMessage] | None:
    """The session's turns (only the `newest` if given), oldest first; None if there is none."""
    found = await conn.fetchval(
        "SELECT 1 FROM sessions WHERE user_id = $1 AND session_id = $2", user_id, session_id
    )
    if found is None:
        return None
    sql = "SELECT * FROM messages WHERE user_id = $1 AND session_id = $2 ORDER BY id DESC LIMIT $3"
    turns = await conn.fetch(sql, user_id, session_id, newest)
    return [
        StoredMessage(
            role=cast(Literal["user", "assistant"], row["role"]),
            content=row["content"],
            created_at=row["created_at"],
            images=tuple(json.loads(row["images"])),
        )
        for row in reversed(turns)
    ]
