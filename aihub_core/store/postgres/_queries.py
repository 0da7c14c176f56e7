"""The PostgreSQL store's SQL outside the ledger's group commit: plain async functions of a
connection. Constraint failures a caller can cause are translated here, once, to the core's errors.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Literal, TypeAlias, cast

import asyncpg

from aihub_core.errors import ConflictError, NotFoundError
from aihub_core.store import rows
from aihub_core.store.base import (
    ApiKeyRecord,
    DailyTotals,
    IdempotencyRecord,
    ModelTotals,
    RotatedSecret,
    StoredMessage,
    UserRecord,
)

if TYPE_CHECKING:
    # A pooled connection (the stubs' generic; asyncpg's class is not subscriptable at run time).
    Conn: TypeAlias = asyncpg.pool.PoolConnectionProxy[asyncpg.Record]
BILLABLE_SQL = "status IN ({})".format(", ".join(f"'{s}'" for s in rows.BILLABLE))
AUTH_GENERATION_SQL = "SELECT value FROM auth_generation WHERE id = 1"
REVOCATIONS_SQL = "SELECT value FROM revocations WHERE id = 1"


def translate(exc: asyncpg.PostgresError, conflict: str = "") -> Exception:
    """The core error for a constraint failure a caller can cause; any other stays as it is."""
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        return NotFoundError("no such user")
    if conflict and isinstance(exc, asyncpg.UniqueViolationError):
        return ConflictError(conflict)
    return exc


def insert_sql(table: str, columns: Sequence[str], suffix: str = "") -> str:
    """INSERT of one row with $1.. parameters (names come from this package and `rows`)."""
    marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) {suffix}"


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


def _key(row: asyncpg.Record) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=row["id"],
        user_id=row["user_id"],
        name=row["name"],
        key_hash=row["key_hash"],
        prefix=row["prefix"],
        permissions=tuple(row["permissions"]),
        requests_per_minute=row["requests_per_minute"],
        created_at=row["created_at"],
        last_used=row["last_used"],
        expires_at=row["expires_at"],
        rotated_at=row["rotated_at"],
        budget_pico_usd=row["budget_pico_usd"],
        budget_period=row["budget_period"],
        secret_expires_at=row.get("secret_expires_at"),
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
    return _changed(done)


async def set_user_budget(conn: Conn, email: str, limit: int | None, period: str | None) -> bool:
    """Set or remove a user's budget; False if there is no such user."""
    sql = "UPDATE users SET budget_pico_usd = $1, budget_period = $2 WHERE email = $3"
    return _changed(await conn.execute(sql, limit, period, rows.normalize_email(email)))


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
    return _changed(done)


async def create_api_key(conn: Conn, key: ApiKeyRecord) -> None:
    """Insert a key; ConflictError on a duplicate id or hash, NotFoundError for an unknown user."""
    row = {**rows.api_key_row(key), "permissions": list(key.permissions)}
    try:
        await conn.execute(insert_sql("api_keys", list(row)), *row.values())
    except asyncpg.PostgresError as exc:
        raise translate(exc, conflict="an API key with this id or hash already exists") from None


async def get_api_key_by_hash(conn: Conn, key_hash: str) -> ApiKeyRecord | None:
    """The live (not deleted) key with this hash, current or rotated out (`secret_expires_at`)."""
    row = await conn.fetchrow(_BY_HASH, key_hash)
    return _key(row) if row else None


# One round trip: the current secret's row, else the row of a key rotated away from this secret.
_BY_HASH = """
SELECT k.*, NULL::timestamptz AS secret_expires_at FROM api_keys k
WHERE k.key_hash = $1 AND k.deleted_at IS NULL
UNION ALL
SELECT k.*, o.valid_until FROM api_key_old_secrets o JOIN api_keys k ON k.id = o.key_id
WHERE o.key_hash = $1 AND k.deleted_at IS NULL
LIMIT 1
"""


async def rotate_api_key(conn: Conn, user_id: str, key_id: str, secret: RotatedSecret) -> ApiKeyRecord | None:
    """Give a live key a new secret and keep its old one with its grace, in one transaction."""
    new = rows.rotated_secret_row(secret)
    async with conn.transaction():
        old = await conn.fetchval(
            "SELECT key_hash FROM api_keys WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL FOR UPDATE",
            key_id,
            user_id,
        )
        if old is None:
            return None
        if await conn.fetchval("SELECT 1 FROM api_key_old_secrets WHERE key_hash = $1", new["key_hash"]):
            raise ConflictError("an API key with this hash already exists")
        try:
            await conn.execute(
                "INSERT INTO api_key_old_secrets (key_hash, key_id, valid_until) VALUES ($1, $2, $3)",
                old,
                key_id,
                new["old_secret_until"],
            )
            row = await conn.fetchrow(
                "UPDATE api_keys SET key_hash = $1, prefix = $2, rotated_at = $3 WHERE id = $4 "
                "RETURNING *, NULL::timestamptz AS secret_expires_at",
                new["key_hash"],
                new["prefix"],
                new["rotated_at"],
                key_id,
            )
        except asyncpg.PostgresError as exc:
            raise translate(exc, conflict="an API key with this hash already exists") from None
    return _key(row) if row else None


async def list_api_keys(conn: Conn, user_id: str) -> list[ApiKeyRecord]:
    """The user's live keys, newest first."""
    sql = "SELECT * FROM api_keys WHERE user_id = $1 AND deleted_at IS NULL ORDER BY created_at DESC, id DESC"
    return [_key(row) for row in await conn.fetch(sql, user_id)]


async def delete_api_key(conn: Conn, user_id: str, key_id: str) -> bool:
    """Soft-delete one of the user's live keys (usage keeps naming it; its hash is never reissued)."""
    sql = "UPDATE api_keys SET deleted_at = now() WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL"
    return _changed(await conn.execute(sql, key_id, user_id))


async def touch_api_key(conn: Conn, key_id: str, when: datetime) -> None:
    """Record that a key was used; a late, older touch changes nothing."""
    sql = "UPDATE api_keys SET last_used = $1 WHERE id = $2 AND (last_used IS NULL OR last_used < $1)"
    await conn.execute(sql, rows.utc(when), key_id)


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


async def daily_usage(conn: Conn, user_id: str, first: date, last: date) -> list[DailyTotals]:
    """Billable totals per UTC day with records, first..last inclusive, oldest first (the rollup)."""
    sql = (
        "SELECT day, requests, tokens, cost_pico_usd FROM usage_daily "
        "WHERE user_id = $1 AND day BETWEEN $2 AND $3 ORDER BY day"
    )
    return [
        DailyTotals(row["day"], int(row["requests"]), int(row["tokens"]), int(row["cost_pico_usd"]))
        for row in await conn.fetch(sql, user_id, first, last)
    ]


async def gateway_daily_usage(conn: Conn, first: date, last: date) -> list[DailyTotals]:
    """Every user's billable totals per UTC day, first..last inclusive, oldest first (the rollup)."""
    sql = (
        "SELECT day, sum(requests) AS requests, sum(tokens) AS tokens, sum(cost_pico_usd) AS cost "
        "FROM usage_daily WHERE day BETWEEN $1 AND $2 GROUP BY day ORDER BY day"
    )
    return [
        DailyTotals(row["day"], int(row["requests"]), int(row["tokens"]), int(row["cost"]))
        for row in await conn.fetch(sql, first, last)
    ]


async def top_models(conn: Conn, first: date, last: date, limit: int) -> list[ModelTotals]:
    """The most costly (service, model)s of the days first..last: the range's records only, found
    user by user through the (user_id, created_at) index."""
    sql = (
        "SELECT service, model, count(*) AS requests, sum(prompt_tokens + completion_tokens) AS tokens, "
        "sum(cost_pico_usd) AS cost FROM usage_records "
        "WHERE user_id = ANY(ARRAY(SELECT id FROM users)) AND created_at >= $1 AND created_at < $2 "
        f"AND {BILLABLE_SQL} GROUP BY service, model "
        "ORDER BY cost DESC, requests DESC, service, model LIMIT $3"
    )
    found = await conn.fetch(sql, rows.day_start(first), rows.day_start(last + timedelta(days=1)), limit)
    return [
        ModelTotals(row["service"], row["model"], int(row["requests"]), int(row["tokens"]), int(row["cost"]))
        for row in found
    ]


async def key_spent(conn: Conn, key_id: str, since: datetime) -> int:
    """The settled billable cost of a key's calls admitted since a moment (its own index)."""
    sql = (
        "SELECT coalesce(sum(cost_pico_usd), 0) FROM usage_records "
        f"WHERE key_id = $1 AND created_at >= $2 AND {BILLABLE_SQL}"
    )
    return int(await conn.fetchval(sql, key_id, rows.utc(since)))


async def user_spent(conn: Conn, user_id: str, since: datetime) -> int:
    """The settled billable cost of a user's calls admitted since a moment."""
    sql = (
        "SELECT coalesce(sum(cost_pico_usd), 0) FROM usage_records "
        f"WHERE user_id = $1 AND created_at >= $2 AND {BILLABLE_SQL}"
    )
    return int(await conn.fetchval(sql, user_id, rows.utc(since)))


async def count_requests(conn: Conn, user_id: str, since: datetime) -> int:
    """Requests since a moment that count against the quota, in one round trip: whole days from the
    rollup, the rest of `since`'s day from the ledger, pending ones from their own index."""
    since = rows.utc(since)
    day = since.date()
    first_whole = day if since == rows.day_start(day) else day + timedelta(days=1)
    sql = f"""
        SELECT (SELECT coalesce(sum(requests), 0) FROM usage_daily WHERE user_id = $1 AND day >= $3)
             + (SELECT count(*) FROM usage_records
                WHERE user_id = $1 AND created_at >= $2 AND created_at < $4 AND {BILLABLE_SQL})
             + (SELECT count(*) FROM usage_records
                WHERE user_id = $1 AND status = 'pending' AND created_at >= $2)
    """
    return int(await conn.fetchval(sql, user_id, since, first_whole, rows.day_start(first_whole)))


_CLAIM = """
INSERT INTO idempotency_keys AS k (user_id, key, request_hash, request_id, state, created_at, owner)
VALUES ($1, $2, $3, $4, 'pending', $5, $6)
ON CONFLICT (user_id, key) DO UPDATE SET request_hash = excluded.request_hash,
    request_id = excluded.request_id, state = 'pending', response = NULL,
    created_at = excluded.created_at, owner = excluded.owner
WHERE k.created_at < $7
RETURNING 1
"""


async def claim_idempotency_key(
    conn: Conn, claim: IdempotencyRecord, expired_before: datetime, owner: str
) -> IdempotencyRecord | None:
    """Claim the key (replacing an expired claim) or return the live claim holding it."""
    row = rows.claim_row(claim, owner)
    expired = rows.utc(expired_before)
    while True:
        claimed = await conn.fetchval(
            _CLAIM,
            row["user_id"],
            row["key"],
            row["request_hash"],
            row["request_id"],
            row["created_at"],
            owner,
            expired,
        )
        if claimed is not None:
            return None
        held = await conn.fetchrow(
            "SELECT * FROM idempotency_keys WHERE user_id = $1 AND key = $2", claim.user_id, claim.key
        )
        if held is not None:
            return IdempotencyRecord(
                held["user_id"],
                held["key"],
                held["request_hash"],
                held["request_id"],
                held["created_at"],
                None if held["response"] is None else bytes(held["response"]),
            )
        # Released between the two statements: claim again.


async def complete_idempotency_key(conn: Conn, user_id: str, key: str, response: bytes) -> None:
    """Store the answer; the claim becomes replayable."""
    sql = "UPDATE idempotency_keys SET state = 'done', response = $1 WHERE user_id = $2 AND key = $3"
    await conn.execute(sql, response, user_id, key)


async def release_idempotency_key(conn: Conn, user_id: str, key: str) -> None:
    """Drop a pending claim (a finished one stays: its answer was given)."""
    sql = "DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND state = 'pending'"
    await conn.execute(sql, user_id, key)


def _changed(status: str) -> bool:
    # asyncpg returns the command tag: "UPDATE 1".
    return int(status.rsplit(" ", 1)[-1]) > 0
