"""The SQLite store's sessions (`protocols.sessions`)."""

from __future__ import annotations

from aihub_core.store.records import StoredMessage, UsageRecord
from aihub_core.store.sqlite import _ledger
from aihub_core.store.sqlite._connection import SQLiteConnection


class SQLiteSessions(SQLiteConnection):
    """`SessionStore` on SQLite."""

    async def session_messages(
        self, user_id: str, session_id: str, newest: int | None = None
    ) -> list[StoredMessage] | None:
        """The session's turns (only the `newest` if given), oldest first; None if there is none."""
        return await self._call(_ledger.session_messages, user_id, session_id, newest)

    async def append_turn(
        self,
        user_id: str,
        session_id: str,
        user_message: StoredMessage,
        assistant_message: StoredMessage,
        usage: UsageRecord | None = None,
    ) -> None:
        """Store a turn and its answer (creating the session), and settle the usage record, in one
        transaction (group-committed with other ledger writes when it settles one)."""
        if usage is None:
            await self._call(_ledger.append_turn, user_id, session_id, user_message, assistant_message, usage)
            return
        await self._write_ledger(
            _ledger.append_turn, user_id, session_id, user_message, assistant_message, usage
        )
