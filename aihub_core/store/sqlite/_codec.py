"""SQLite's column values: `rows`' Python values to SQLite's and back, so the store reads as queries.

Times are stored as UTC ISO-8601 text of one fixed width, so that text order is time order and
the first ten characters are the UTC day; tuples of strings as JSON arrays.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, cast

from aihub_core.store import rows
from aihub_core.store.base import ApiKeyRecord, StoredMessage, UserRecord


def encode_time(value: datetime) -> str:
    """A UTC ISO-8601 string of fixed width, so that text order is time order."""
    return rows.utc(value).isoformat(timespec="microseconds")


def decode_time(text: str) -> datetime:
    """The timezone-aware UTC datetime of a stored time."""
    return datetime.fromisoformat(text).astimezone(UTC)


def day_start(day: date) -> str:
    """The stored form of midnight UTC at the start of a day."""
    return encode_time(rows.day_start(day))


def next_day_start(day: date) -> str:
    """The stored form of midnight UTC at the end of a day."""
    return day_start(day + timedelta(days=1))


def to_sqlite(row: rows.Row) -> dict[str, Any]:
    """A row of `rows` with its values as SQLite stores them."""
    return {name: _value(value) for name, value in row.items()}


def _value(value: object) -> object:
    if isinstance(value, datetime):
        return encode_time(value)
    if isinstance(value, tuple):
        return json.dumps(list(value))
    return value


def user_from_row(row: dict[str, Any]) -> UserRecord:
    """A user record from its row."""
    return UserRecord(
        id=str(row["id"]),
        email=str(row["email"]),
        password_hash=str(row["password_hash"]),
        plan=str(row["plan"]),
        created_at=decode_time(row["created_at"]),
        role=str(row["role"]),
        budget_pico_usd=None if row["budget_pico_usd"] is None else int(row["budget_pico_usd"]),
        budget_period=row["budget_period"],
        alert_count=int(row["alert_count"]),
    )


def api_key_from_row(row: dict[str, Any]) -> ApiKeyRecord:
    """An API key record from its row."""
    rpm = row["requests_per_minute"]
    return ApiKeyRecord(
        id=str(row["id"]),
        user_id=str(row["user_id"]),
        name=str(row["name"]),
        key_hash=str(row["key_hash"]),
        prefix=str(row["prefix"]),
        permissions=tuple(str(p) for p in json.loads(row["permissions"])),
        requests_per_minute=None if rpm is None else int(rpm),
        created_at=decode_time(row["created_at"]),
        last_used=_time_or_none(row["last_used"]),
        expires_at=_time_or_none(row["expires_at"]),
        rotated_at=_time_or_none(row["rotated_at"]),
        budget_pico_usd=None if row["budget_pico_usd"] is None else int(row["budget_pico_usd"]),
        budget_period=row["budget_period"],
        secret_expires_at=_time_or_none(row.get("secret_expires_at")),
    )


def _time_or_none(text: str | None) -> datetime | None:
    return decode_time(text) if text else None


def message_from_row(row: dict[str, Any]) -> StoredMessage:
    """A session turn from its row."""
    return StoredMessage(
        role=cast(Literal["user", "assistant"], row["role"]),
        content=str(row["content"]),
        created_at=decode_time(row["created_at"]),
        images=tuple(str(i) for i in json.loads(row["images"])),
    )
