"""The PostgreSQL store's sessions (`protocols.sessions`)."""

from __future__ import annotations

from aihub_core.store import rows
from aihub_core.store.postgres import _sessions
from aihub_core.store.postgres._connection import PostgresConnection
from aihub_core.store.postgres._ledger import Turn
from aihub_core.store.records import StoredMessage, UsageRecord


class PostgresSessions(PostgresConnection):
    """`SessionStore` on PostgreSQL."""

    async def session_messages(
        self, user_id: str, session_id: str, newest: int | None = None
    ) -> list[StoredMessage] | None:
        """The session's turns (only the `newest` if given), oldest first; None if there is none."""
        return await self._call(_sessions.session_messages, user_id, session_id, newest)

    async def append_turn(
        self,
        user_id: str,
        session_id: str,
        user_message: StoredMessage,
        assistant_message: StoredMessage,
        usage: UsageRecord | None = None,
    ) -> None:
        """Store a turn and its answer and settle the usage record, in one transaction (the group
        commit's, shared with other ledger writes)."""
        messages = (
            rows.message_row(user_id, session_id, user_message),
            rows.message_row(user_id, session_id, assistant_message),
        )
        settlement = rows.settled_row(usage) if usage else None
        session = {
            "user_id": user_id,
            "session_id": session_id,
            "created_at": messages[0]["created_at"],
            "updated_at": messages[1]["created_at"],
        }
        await self._write(Turn(session, messages, settlement), usage.request_id if usage else None)
