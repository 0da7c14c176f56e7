"""Users: their accounts, roles and budgets, revoked login tokens, and the auth generation."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from aihub_core.store.records import UserRecord


class AccountStore(Protocol):
    """Users, their log-outs, and the counters that let callers cache them."""

    async def create_user(self, user: UserRecord) -> None:
        """Insert a user; ConflictError if the email (case-insensitively, param `email`) or the id
        is taken."""
        ...

    async def get_user(self, user_id: str) -> UserRecord | None:
        """The user with this id, its email as stored (see `get_user_by_email`)."""
        ...

    async def get_user_by_email(self, email: str) -> UserRecord | None:
        """The user with this email, compared case-insensitively: emails are stored stripped of
        surrounding spaces and lower-cased (`str.lower`, all of Unicode, not only ASCII)."""
        ...

    async def set_plan(self, email: str, plan: str) -> bool:
        """Change a user's plan (email as in `get_user_by_email`); False if there is no such user."""
        ...

    async def set_user_budget(self, email: str, limit_pico_usd: int | None, period: str | None) -> bool:
        """Set (or, with None, remove) a user's budget per `period` (`day` or `month`); False if
        there is no such user. Moves the auth generation, as every change of a user does."""
        ...

    async def list_users(self) -> list[UserRecord]:
        """Every user, oldest first (ties by id)."""
        ...

    async def set_role(self, email: str, role: str) -> bool:
        """Change a user's role (one of `ROLES`; email as in `get_user_by_email`); False if there
        is no such user."""
        ...

    async def revoke_token(self, token_id: str, user_id: str, expires_at: datetime, now: datetime) -> None:
        """Refuse the login token `token_id` (its `jti`) from now until `expires_at`, in every store
        sharing the database (`token_revoked`), and move `revocations`; revoking it again refuses
        nothing new. Tokens whose
        `expires_at` is at or before `now` are forgotten (they are refused as expired anyway)."""
        ...

    async def token_revoked(self, token_id: str) -> bool:
        """Whether a log-out revoked the login token `token_id` (one indexed read)."""
        ...

    async def revocations(self) -> int:
        """A counter that every `revoke_token` moves, in the same transaction, read as cheaply as
        `auth_generation`: a token found live (`token_revoked` False) after reading it stays live
        while it has not moved. Log-outs never move the auth generation."""
        ...

    async def auth_generation(self) -> int:
        """A number that changes whenever a committed write may change what `get_api_key_by_hash`
        or `get_user` return for a key or user that exists: a plan change, a key deletion, any
        change to a user or to a key's permissions or limit (not `touch_api_key`; not new users
        or keys, since nothing caches an absent one). Writes of every process count, and the
        number changes in the same transaction as the write, so it is current the moment the
        write returns. A write that changes nothing (no such user, a key already deleted) need
        not change it.

        It is read on every authenticated request so that callers can cache those records: read
        it before reading the records, keep them under it, and drop them all once it differs.
        So it must cost far less than a store read: it may not wait behind the store's other
        calls."""
        ...
