"""The PostgreSQL store's API keys (`protocols.keys`), as plain async functions of a pooled
connection."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import asyncpg

from aihub_core.errors import ConflictError
from aihub_core.store import rows
from aihub_core.store.postgres._queries import changed, insert_sql, translate
from aihub_core.store.records import ApiKeyRecord, RotatedSecret

if TYPE_CHECKING:
    from aihub_core.store.postgres._queries import Conn


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
    return changed(await conn.execute(sql, key_id, user_id))


async def touch_api_key(conn: Conn, key_id: str, when: datetime) -> None:
    """Record that a key was used; a late, older touch changes nothing."""
    sql = "UPDATE api_keys SET last_used = $1 WHERE id = $2 AND (last_used IS NULL OR last_used < $1)"
    await conn.execute(sql, rows.utc(when), key_id)
