"""The SQLite store's SQL, as plain functions of a sqlite-utils `Database`.

They block, so only `SQLiteStore`'s worker thread calls them. Constraint failures a caller can
cause are translated here, once, to the core's errors.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlite_utils import Database

from aihub_core.errors import ConflictError, NotFoundError
from aihub_core.store import rows
from aihub_core.store.base import (
    ApiKeyRecord,
    DailyTotals,
    ModelTotals,
    RotatedSecret,
    StoredMessage,
    UsageRecord,
    UserRecord,
)
from aihub_core.store.sqlite import _codec as codec
from aihub_core.store.sqlite._atomic import atomic

Params = list[Any] | dict[str, Any]

_BILLABLE_SQL = "status IN ({})".format(", ".join(f"'{s}'" for s in rows.BILLABLE))
# ON CONFLICT names the key: unlike INSERT OR IGNORE it does not also swallow a CHECK failure.
_ONCE_PER_REQUEST = "ON CONFLICT (request_id) DO NOTHING"
# A settlement fills in its call's pending row; the WHERE leaves a settled row as it is (settle
# once), and never lets one user's record touch another's. The reservation keeps its created_at
# (when the call was admitted, the moment the quota counted it) and key.
_SETTLED = (
    "service",
    "model",
    "prompt_tokens",
    "completion_tokens",
    "cost_pico_usd",
    "status",
    "usage_source",
    "session_id",
    "response_time_ms",
    "settled_at",
)
_SETTLE_ONCE = (
    "ON CONFLICT (request_id) DO UPDATE SET "
    + ", ".join(f"{column} = excluded.{column}" for column in _SETTLED)
    + " WHERE usage_records.status = 'pending' AND usage_records.user_id = excluded.user_id"
)
_SESSION_UPSERT = "ON CONFLICT (user_id, session_id) DO UPDATE SET updated_at = excluded.updated_at"


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
    row = _one(db, "SELECT * FROM users WHERE id = ?", [user_id])
    return codec.user_from_row(row) if row else None


def get_user_by_email(db: Database, email: str) -> UserRecord | None:
    """The user with this email, compared case-insensitively."""
    row = _one(db, "SELECT * FROM users WHERE email = ?", [rows.normalize_email(email)])
    return codec.user_from_row(row) if row else None


def set_plan(db: Database, email: str, plan: str) -> bool:
    """Change a user's plan; False if there is no such user."""
    return _changed(db, "UPDATE users SET plan = ? WHERE email = ?", [plan, rows.normalize_email(email)])


def set_user_budget(db: Database, email: str, limit: int | None, period: str | None) -> bool:
    """Set or remove a user's budget; False if there is no such user."""
    sql = "UPDATE users SET budget_pico_usd = ?, budget_period = ? WHERE email = ?"
    return _changed(db, sql, [limit, period, rows.normalize_email(email)])


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
    row = _one(db, REVOCATIONS_SQL, [])
    return int(row["value"]) if row else 0


def token_revoked(db: Database, token_id: str) -> bool:
    """Whether the login token was revoked."""
    return _one(db, "SELECT 1 AS n FROM revoked_tokens WHERE token_id = ?", [token_id]) is not None


def list_users(db: Database) -> list[UserRecord]:
    """Every user, oldest first."""
    return [codec.user_from_row(row) for row in db.query("SELECT * FROM users ORDER BY created_at, id", [])]


def set_role(db: Database, email: str, role: str) -> bool:
    """Change a user's role; False if there is no such user."""
    return _changed(db, "UPDATE users SET role = ? WHERE email = ?", [role, rows.normalize_email(email)])


AUTH_GENERATION_SQL = "SELECT value FROM auth_generation WHERE id = 1"
REVOCATIONS_SQL = "SELECT value FROM revocations WHERE id = 1"


def auth_generation(db: Database) -> int:
    """The auth generation counter (bumped by triggers, migration 4)."""
    row = _one(db, AUTH_GENERATION_SQL, [])
    return int(row["value"]) if row else 0


def create_api_key(db: Database, key: ApiKeyRecord) -> None:
    """Insert a key; ConflictError on a duplicate id or hash, NotFoundError for an unknown user."""
    try:
        insert(db, "api_keys", codec.to_sqlite(rows.api_key_row(key)))
    except sqlite3.IntegrityError as exc:
        raise translate(exc, conflict="an API key with this id or hash already exists") from None


def get_api_key_by_hash(db: Database, key_hash: str) -> ApiKeyRecord | None:
    """The live (not deleted) key with this hash, current or rotated out (`secret_expires_at`)."""
    row = _one(db, "SELECT * FROM api_keys WHERE key_hash = ? AND deleted_at IS NULL", [key_hash])
    if row is None:
        row = _one(db, _BY_OLD_SECRET, [key_hash])
    return codec.api_key_from_row(row) if row else None


_BY_OLD_SECRET = (
    "SELECT k.*, o.valid_until AS secret_expires_at FROM api_key_old_secrets o "
    "JOIN api_keys k ON k.id = o.key_id WHERE o.key_hash = ? AND k.deleted_at IS NULL"
)


def rotate_api_key(db: Database, user_id: str, key_id: str, secret: RotatedSecret) -> ApiKeyRecord | None:
    """Give a live key a new secret and keep its old one with its grace, in one transaction."""
    new = codec.to_sqlite(rows.rotated_secret_row(secret))
    with atomic(db):
        row = _one(
            db,
            "SELECT * FROM api_keys WHERE id = ? AND user_id = ? AND deleted_at IS NULL",
            [key_id, user_id],
        )
        if row is None:
            return None
        if _one(db, "SELECT 1 AS used FROM api_key_old_secrets WHERE key_hash = ?", [new["key_hash"]]):
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
        updated = _one(db, "SELECT * FROM api_keys WHERE id = ?", [key_id])
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
    return _changed(db, sql, [codec.encode_time(datetime.now(UTC)), key_id, user_id])


def touch_api_key(db: Database, key_id: str, when: datetime) -> None:
    """Record that a key was used."""
    # Touches race; an older one arriving late must not move last_used back.
    sql = "UPDATE api_keys SET last_used = :when WHERE id = :id AND (last_used IS NULL OR last_used < :when)"
    _changed(db, sql, {"when": codec.encode_time(when), "id": key_id})


def session_messages(
    db: Database, user_id: str, session_id: str, newest: int | None = None
) -> list[StoredMessage] | None:
    """The session's turns (only the `newest` if given), oldest first; None if there is no such session."""
    key = [user_id, session_id]
    if _one(db, "SELECT 1 AS found FROM sessions WHERE user_id = ? AND session_id = ?", key) is None:
        return None
    sql = "SELECT * FROM messages WHERE user_id = ? AND session_id = ? ORDER BY id DESC LIMIT ?"
    found = db.query(sql, [*key, -1 if newest is None else newest])
    return [codec.message_from_row(row) for row in found][::-1]


def append_turn(
    db: Database,
    user_id: str,
    session_id: str,
    user_message: StoredMessage,
    assistant_message: StoredMessage,
    usage: UsageRecord | None,
) -> None:
    """Store a turn, its answer, the session row and the usage settlement in one transaction."""
    # Encode everything first, so that a bad value fails before the transaction starts.
    messages = [
        codec.to_sqlite(rows.message_row(user_id, session_id, m)) for m in (user_message, assistant_message)
    ]
    usage_row = codec.to_sqlite(rows.settled_row(usage)) if usage else None
    session = {
        "user_id": user_id,
        "session_id": session_id,
        "created_at": messages[0]["created_at"],
        "updated_at": messages[1]["created_at"],
    }
    try:
        with atomic(db):
            insert(db, "sessions", session, _SESSION_UPSERT)
            for row in messages:
                insert(db, "messages", row)
            if usage_row is not None:
                insert(db, "usage_records", usage_row, _SETTLE_ONCE)
    except sqlite3.IntegrityError as exc:
        raise translate(exc) from None


def reserve_usage(db: Database, record: UsageRecord, owner: str | None = None) -> None:
    """Insert the pending row of an admitted call, unless its request id is in the ledger already."""
    try:
        insert(db, "usage_records", codec.to_sqlite(rows.reservation_row(record, owner)), _ONCE_PER_REQUEST)
    except sqlite3.IntegrityError as exc:
        raise translate(exc) from None


def record_usage(db: Database, record: UsageRecord) -> None:
    """Settle a call: fill in its pending row, or insert the record if there is none; once."""
    try:
        insert(db, "usage_records", codec.to_sqlite(rows.settled_row(record)), _SETTLE_ONCE)
    except sqlite3.IntegrityError as exc:
        raise translate(exc) from None


def daily_usage(db: Database, user_id: str, first: date, last: date) -> list[DailyTotals]:
    """Billable totals per UTC day with records, first..last inclusive, oldest first (the rollup)."""
    sql = (
        "SELECT day, requests, tokens, cost_pico_usd FROM usage_daily "
        "WHERE user_id = ? AND day >= ? AND day <= ? ORDER BY day"
    )
    return [
        DailyTotals(
            day=date.fromisoformat(row["day"]),
            requests=int(row["requests"]),
            tokens=int(row["tokens"]),
            cost_pico_usd=int(row["cost_pico_usd"]),
        )
        for row in db.query(sql, [user_id, first.isoformat(), last.isoformat()])
    ]


def gateway_daily_usage(db: Database, first: date, last: date) -> list[DailyTotals]:
    """Every user's billable totals per UTC day, first..last inclusive, oldest first (the rollup)."""
    sql = (
        "SELECT day, sum(requests) AS requests, sum(tokens) AS tokens, sum(cost_pico_usd) AS cost "
        "FROM usage_daily WHERE day >= ? AND day <= ? GROUP BY day ORDER BY day"
    )
    return [
        DailyTotals(
            date.fromisoformat(row["day"]), int(row["requests"]), int(row["tokens"]), int(row["cost"])
        )
        for row in db.query(sql, [first.isoformat(), last.isoformat()])
    ]


def top_models(db: Database, first: date, last: date, limit: int) -> list[ModelTotals]:
    """The most costly (service, model)s of the days first..last: the range's records only, found
    user by user through the (user_id, created_at) index."""
    sql = (
        "SELECT service, model, count(*) AS requests, sum(prompt_tokens + completion_tokens) AS tokens, "
        "sum(cost_pico_usd) AS cost FROM usage_records "
        "WHERE user_id IN (SELECT id FROM users) AND created_at >= ? AND created_at < ? "
        f"AND {_BILLABLE_SQL} GROUP BY service, model "
        "ORDER BY cost DESC, requests DESC, service, model LIMIT ?"
    )
    found = db.query(sql, [codec.day_start(first), codec.next_day_start(last), limit])
    return [
        ModelTotals(row["service"], row["model"], int(row["requests"]), int(row["tokens"]), int(row["cost"]))
        for row in found
    ]


def key_spent(db: Database, key_id: str, since: datetime) -> int:
    """The settled billable cost of a key's calls admitted since a moment (its own index)."""
    row = _one(
        db,
        "SELECT coalesce(sum(cost_pico_usd), 0) AS n FROM usage_records "
        f"WHERE key_id = ? AND created_at >= ? AND {_BILLABLE_SQL}",
        [key_id, codec.encode_time(rows.utc(since))],
    )
    return int(row["n"]) if row else 0


def user_spent(db: Database, user_id: str, since: datetime) -> int:
    """The settled billable cost of a user's calls admitted since a moment."""
    row = _one(
        db,
        "SELECT coalesce(sum(cost_pico_usd), 0) AS n FROM usage_records "
        f"WHERE user_id = ? AND created_at >= ? AND {_BILLABLE_SQL}",
        [user_id, codec.encode_time(rows.utc(since))],
    )
    return int(row["n"]) if row else 0


def count_requests(db: Database, user_id: str, since: datetime) -> int:
    """Requests since a moment that count against the quota: billable ones (whole days from the
    rollup, the rest of `since`'s day from the ledger) and pending ones (their own index)."""
    since = rows.utc(since)
    first_whole = since.date() if since == rows.day_start(since.date()) else since.date() + timedelta(days=1)
    whole = _one(
        db,
        "SELECT coalesce(sum(requests), 0) AS n FROM usage_daily WHERE user_id = ? AND day >= ?",
        [user_id, first_whole.isoformat()],
    )
    part_sql = (
        "SELECT count(*) AS n FROM usage_records WHERE user_id = ? AND created_at >= ? "
        f"AND created_at < ? AND {_BILLABLE_SQL}"
    )
    part = _one(db, part_sql, [user_id, codec.encode_time(since), codec.day_start(first_whole)])
    in_flight = _one(
        db,
        "SELECT count(*) AS n FROM usage_records "
        "WHERE user_id = ? AND status = 'pending' AND created_at >= ?",
        [user_id, codec.encode_time(since)],
    )
    return sum(int(row["n"]) if row else 0 for row in (whole, part, in_flight))


def _one(db: Database, sql: str, params: Params) -> dict[str, Any] | None:
    # Read to the end, so the statement is finished (and its read snapshot let go) right here.
    rows = list(db.query(sql, params))
    return rows[0] if rows else None


def _changed(db: Database, sql: str, params: Params) -> bool:
    return int(db.execute(sql, params).rowcount) > 0


def insert(db: Database, table: str, row: dict[str, Any], suffix: str = "") -> int:
    """Insert a row (`suffix`: an ON CONFLICT clause); how many rows it inserted or changed."""
    # Table and column names come from this package and `rows`, never from callers.
    columns = ", ".join(row)
    values = ", ".join(f":{name}" for name in row)
    return int(db.execute(f"INSERT INTO {table} ({columns}) VALUES ({values}) {suffix}", row).rowcount)


def translate(exc: sqlite3.IntegrityError, conflict: str = "") -> Exception:
    """The core error for a constraint failure a caller can cause; any other stays as it is."""
    if exc.sqlite_errorname == "SQLITE_CONSTRAINT_FOREIGNKEY":
        return NotFoundError("no such user")
    if conflict and exc.sqlite_errorname in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"):
        return ConflictError(conflict)
    return exc
