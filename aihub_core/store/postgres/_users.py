"""The PostgreSQL store's users: accounts, roles, budgets, revoked login tokens and the auth
counters (`protocols.accounts`), as plain async functions of a pooled connection."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import asyncpg

from aihub_core.errors import ConflictError
from aihub_core.store import rows
from aihub_core.store.postgres._queries import changed, insert_sql, translate
from aihub_core.store.records import UserRecord

if TYPE_CHECKING:
    from aihub_core.store.postgres._queries import Conn

AUTH_GENERATION_SQL = "SELECT value FROM auth_generation WHERE id = 1"
REVOCATIONS_SQL = "SELECT value FROM revocations WHERE id = 1"


def _user(row: asyncpg.Record) -> UserRecord:
    return UserRecord(
        row["id"],
        row["email"],
        row["password_hash"],
        row["plan"],
        row["created_at"],
        row["role"],
        budget_pico_usd=row["budget_pico_usd"],
        budget_period=row["budget_period"],
        alert_count=row["alert_count"],
    )


async def create_user(conn: Conn, user: UserRecord) -> None:
    """Insert a user; ConflictError if the email (case-folded) or id is taken."""
    row = rows.user_row(user)
    try:
        await conn.execute(insert_sql("users", list(row)), *row.values())
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name == "users_email":
            raise ConflictError("an account with this email already exists", param="email") from None
        raise translate(exc, conflict="a user with this id already exists") from None


async def get_user(conn: Conn, user_id: str) -> UserRecord | None:
    """The user with this id."""
    row = await conn.fetchrow("SELECT * FROM users WHERE id = $1", user_id)
    return _user(row) if row else None


async def get_user_by_email(conn: Conn, email: str) -> UserRecord | None:
    """The user with this email, compared case-insensitively."""
    row = await conn.fetchrow("SELECT * FROM users WHERE email = $1", rows.normalize_email(email))
    return _user(row) if row else None


async def set_plan(conn: Conn, email: str, plan: str) -> bool:
    """Change a user's plan; False if there is no such user."""
    done = await conn.execute(
        "UPDATE users SET plan = $1 WHERE email = $2", plan, rows.normalize_email(email)
    )
    return changed(done)


async def set_user_budget(conn: Conn, email: str, limit: int | None, period: str | None) -> bool:
    """Set or remove a user's budget; False if there is no such user."""
    sql = "UPDATE users SET budget_pico_usd = $1, budget_period = $2 WHERE email = $3"
    return changed(await conn.execute(sql, limit, period, rows.normalize_email(email)))


async def revoke_token(conn: Conn, token_id: str, user_id: str, expires_at: datetime, now: datetime) -> None:
    """Record a revoked login token, and forget those past their expiry, in one statement."""
    sql = """
    WITH gone AS (DELETE FROM revoked_tokens WHERE expires_at <= $4),
    counted AS (UPDATE revocations SET value = value + 1 WHERE id = 1)
    INSERT INTO revoked_tokens (token_id, user_id, expires_at) VALUES ($1, $2, $3)
    ON CONFLICT (token_id) DO NOTHING
    """
    await conn.execute(sql, token_id, user_id, rows.utc(expires_at), rows.utc(now))


async def token_revoked(conn: Conn, token_id: str) -> bool:
    """Whether the login token was revoked."""
    return await conn.fetchval("SELECT 1 FROM revoked_tokens WHERE token_id = $1", token_id) is not None


async def list_users(conn: Conn) -> list[UserRecord]:
    """Every user, oldest first."""
    return [_user(row) for row in await conn.fetch("SELECT * FROM users ORDER BY created_at, id")]


async def set_role(conn: Conn, email: str, role: str) -> bool:
    """Change a user's role; False if there is no such user."""
    done = await conn.execute(
        "UPDATE users SET role = $1 WHERE email = $2", role, rows.normalize_email(email)
    )
    return changed(done)
