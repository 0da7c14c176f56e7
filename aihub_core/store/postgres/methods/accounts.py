"""The PostgreSQL store's users, log-outs and auth counters (`protocols.accounts`)."""

from __future__ import annotations

from datetime import datetime

from aihub_core.store import rows
from aihub_core.store.postgres import _users
from aihub_core.store.postgres._connection import PostgresConnection
from aihub_core.store.records import UserRecord


class PostgresAccounts(PostgresConnection):
    """`AccountStore` on PostgreSQL."""

    async def create_user(self, user: UserRecord) -> None:
        """Insert a user; ConflictError if the email or the id is taken."""
        await self._call(_users.create_user, user)

    async def get_user(self, user_id: str) -> UserRecord | None:
        """The user with this id."""
        return await self._call(_users.get_user, user_id)

    async def get_user_by_email(self, email: str) -> UserRecord | None:
        """The user with this email, compared case-insensitively."""
        return await self._call(_users.get_user_by_email, email)

    async def set_plan(self, email: str, plan: str) -> bool:
        """Change a user's plan; False if there is no such user."""
        return await self._call(_users.set_plan, email, plan)

    async def set_user_budget(self, email: str, limit_pico_usd: int | None, period: str | None) -> bool:
        """Set or remove a user's budget; False if there is no such user."""
        return await self._call(_users.set_user_budget, email, limit_pico_usd, period)

    async def revoke_token(self, token_id: str, user_id: str, expires_at: datetime, now: datetime) -> None:
        """Refuse a login token until it expires (see the Protocol)."""
        rows.utc(expires_at)
        rows.utc(now)
        await self._call(_users.revoke_token, token_id, user_id, expires_at, now)

    async def token_revoked(self, token_id: str) -> bool:
        """Whether a log-out revoked the login token."""
        return await self._call(_users.token_revoked, token_id)

    async def list_users(self) -> list[UserRecord]:
        """Every user, oldest first."""
        return await self._call(_users.list_users)

    async def set_role(self, email: str, role: str) -> bool:
        """Change a user's role; False if there is no such user."""
        return await self._call(_users.set_role, email, role)

    async def auth_generation(self) -> int:
        """The auth generation: one indexed one-row read on a pooled connection."""
        return await self._counter(_users.AUTH_GENERATION_SQL)

    async def revocations(self) -> int:
        """The log-out counter, read as the auth generation is."""
        return await self._counter(_users.REVOCATIONS_SQL)
