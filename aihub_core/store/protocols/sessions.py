"""Sessions: the stored turns of a conversation."""

from __future__ import annotations

from typing import Protocol

from aihub_core.store.records import StoredMessage, UsageRecord


class SessionStore(Protocol):
    """Per-user sessions and their turns."""

    async def session_messages(
        self, user_id: str, session_id: str, newest: int | None = None
    ) -> list[StoredMessage] | None:
        """The session's turns in the order they were appended (only the `newest` if given), oldest
        first; None if there is none. Sessions are per user: another user's session of the same id
        is another session."""
        ...

    async def append_turn(
        self,
        user_id: str,
        session_id: str,
        user_message: StoredMessage,
        assistant_message: StoredMessage,
        usage: UsageRecord | None = None,
    ) -> None:
        """Store a user turn and its answer (creating the session if new), and settle the usage
        record if given (as `record_usage` does), in one transaction: on any failure nothing of it
        is written. NotFoundError for an unknown user."""
        ...
