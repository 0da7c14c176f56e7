"""The SQLite store's users: accounts, roles, budgets, revoked login tokens and the auth counters
(`protocols.accounts`), as plain functions of a sqlite-utils `Database` run on the worker thread."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from aihub_core.errors import ConflictError
from aihub_core.store import rows
from aihub_core.store.records import UserRecord
from aihub_core.store.sqlite import _codec as codec
from aihub_core.store.sqlite._atomic import atomic
from aihub_core.store.sqlite._queries import changed, insert, one, translate
from aihub_core.store.sqlite._sqlite_utils import Database


def create_user(db: Database, user: UserRecord) -> None:
    """Insert a user; ConflictError if the email (case-folded) or id is taken."""
    row = codec.to_sqlite(rows.user_row(user))
    try:
        insert(db, "users", row)
    except sqlite3.IntegrityError as exc:
        if "users.email" in str(exc):
            raise ConflictError("an account with this email already exists", param="email") from None
        raise translate(exc, conflict="a user with this id already exists") from None


def get_user(db: Database, user_id: str) -> UserRecord | None:
    """The user with this id."""
    row = one(db, "SELECT * FROM users WHERE id = ?", [user_id])
    return codec.user_from_row(row) if row else None


def get_user_by_email(db: Database, email: str) -> UserRecord | None:
    """The user with this email, compared case-insensitively."""
    row = one(db, "SELECT * FROM users WHERE email = ?", [rows.normalize_email(email)])
    return codec.user_from_row(row) if row else None


def set_plan(db: Database, email: str, plan: str) -> bool:
    """Change a user's plan; False if there is no such user."""
    return changed(db, "UPDATE users SET plan = ? WHERE email = ?", [plan, rows.normalize_email(email)])


def set_user_budget(db: Database, email: str, limit: int | None, period: str | None) -> bool:
    """Set or remove a user's budget; False if there is no such user."""
    sql = "UPDATE users SET budget_pico_usd = ?, budget_period = ? WHERE email = ?"
    return changed(db, sql, [limit, period, rows.normalize_email(email)])


def revoke_token(db: Database, token_id: str, user_id: str, expires_at: datetime, now: datetime) -> None:
    """Record a revoked login token, and forget those past their expiry, in one transaction."""
    with atomic(db):
        db.execute(
            "INSERT INTO revoked_tokens (token_id, user_id, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT (token_id) DO NOTHING",
            [token_id, user_id, codec.encode_time(expires_at)],
        )
        db.execute("DELETE FROM revoked_tokens WHERE expires_at <= ?", [codec.encode_time(now)])
        db.execute("UPDATE revocations SET value = value + 1 WHERE id = 1")


def revocations(db: Database) -> int:
    """The log-out counter."""
    row = one(db, REVOCATIONS_SQL, [])
    return int(row["value"]) if row else 0


def token_revoked(db: Database, token_id: str) -> bool:
    """Whether the login token was revoked."""
    return one(db, "SELECT 1 AS n FROM revoked_tokens WHERE token_id = ?", [token_id]) is not None


def list_users(db: Database) -> list[UserRecord]:
    """Every user, oldest first."""
    return [codec.user_from_row(row) for row in db.query("SELECT * FROM users ORDER BY created_at, id", [])]


def set_role(db: Database, email: str, role: str) -> bool:
    """Change a user's role; False if there is no such user."""
    return changed(db, "UPDATE users SET role = ? WHERE email = ?", [role, rows.normalize_email(email)])


AUTH_GENERATION_SQL = "SELECT value FROM auth_generation WHERE id = 1"
REVOCATIONS_SQL = "SELECT value FROM revocations WHERE id = 1"


def auth_generation(db: Database) -> int:
    """The auth generation counter (bumped by triggers, migration 4)."""
    row = one(db, AUTH_GENERATION_SQL, [])
    return int(row["value"]) if row else 0
