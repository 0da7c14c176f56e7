"""The SQLite store's API keys (`protocols.keys`), as plain functions of a sqlite-utils `Database`
run on the worker thread."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from aihub_core.errors import ConflictError
from aihub_core.store import rows
from aihub_core.store.records import ApiKeyRecord, RotatedSecret
from aihub_core.store.sqlite import _codec as codec
from aihub_core.store.sqlite._atomic import atomic
from aihub_core.store.sqlite._queries import changed, insert, one, translate
from aihub_core.store.sqlite._sqlite_utils import Database


def create_api_key(db: Database, key: ApiKeyRecord) -> None:
    """Insert a key; ConflictError on a duplicate id or hash, NotFoundError for an unknown user."""
    try:
        insert(db, "api_keys", codec.to_sqlite(rows.api_key_row(key)))
    except sqlite3.IntegrityError as exc:
        raise translate(exc, conflict="an API key with this id or hash already exists") from None


def get_api_key_by_hash(db: Database, key_hash: str) -> ApiKeyRecord | None:
    """The live (not deleted) key with this hash, current or rotated out (`secret_expires_at`)."""
    row = one(db, "SELECT * FROM api_keys WHERE key_hash = ? AND deleted_at IS NULL", [key_hash])
    if row is None:
        row = one(db, _BY_OLD_SECRET, [key_hash])
    return codec.api_key_from_row(row) if row else None


_BY_OLD_SECRET = (
    "SELECT k.*, o.valid_until AS secret_expires_at FROM api_key_old_secrets o "
    "JOIN api_keys k ON k.id = o.key_id WHERE o.key_hash = ? AND k.deleted_at IS NULL"
)


def rotate_api_key(db: Database, user_id: str, key_id: str, secret: RotatedSecret) -> ApiKeyRecord | None:
    """Give a live key a new secret and keep its old one with its grace, in one transaction."""
    new = codec.to_sqlite(rows.rotated_secret_row(secret))
    with atomic(db):
        row = one(
            db,
            "SELECT * FROM api_keys WHERE id = ? AND user_id = ? AND deleted_at IS NULL",
            [key_id, user_id],
        )
        if row is None:
            return None
        if one(db, "SELECT 1 AS used FROM api_key_old_secrets WHERE key_hash = ?", [new["key_hash"]]):
            raise ConflictError("an API key with this hash already exists")
        try:
            insert(
                db,
                "api_key_old_secrets",
                {"key_hash": row["key_hash"], "key_id": key_id, "valid_until": new["old_secret_until"]},
            )
            db.execute(
                "UPDATE api_keys SET key_hash = ?, prefix = ?, rotated_at = ? WHERE id = ?",
                [new["key_hash"], new["prefix"], new["rotated_at"], key_id],
            )
        except sqlite3.IntegrityError as exc:
            raise translate(exc, conflict="an API key with this hash already exists") from None
        updated = one(db, "SELECT * FROM api_keys WHERE id = ?", [key_id])
    return codec.api_key_from_row(updated) if updated else None


def list_api_keys(db: Database, user_id: str) -> list[ApiKeyRecord]:
    """The user's live keys, newest first."""
    sql = (
        "SELECT * FROM api_keys WHERE user_id = ? AND deleted_at IS NULL ORDER BY created_at DESC, rowid DESC"
    )
    return [codec.api_key_from_row(row) for row in db.query(sql, [user_id])]


def delete_api_key(db: Database, user_id: str, key_id: str) -> bool:
    """Soft-delete one of the user's live keys; False if there is none."""
    # Soft delete: usage records keep naming the key, and its hash can never be issued again.
    sql = "UPDATE api_keys SET deleted_at = ? WHERE id = ? AND user_id = ? AND deleted_at IS NULL"
    return changed(db, sql, [codec.encode_time(datetime.now(UTC)), key_id, user_id])


def touch_api_key(db: Database, key_id: str, when: datetime) -> None:
    """Record that a key was used."""
    # Touches race; an older one arriving late must not move last_used back.
    sql = "UPDATE api_keys SET last_used = :when WHERE id = :id AND (last_used IS NULL OR last_used < :when)"
    changed(db, sql, {"when": codec.encode_time(when), "id": key_id})
