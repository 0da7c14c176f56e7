"""Conversions between store records and SQLite rows, kept apart so the store reads as queries."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, cast

from aihub_core.store.base import ApiKeyRecord, StoredMessage, UsageRecord, UsageStatus, UserRecord

BILLABLE: tuple[UsageStatus, ...] = ("ok", "error", "cancelled")
# In-flight calls count against the monthly quota too, or a burst could overrun it before settling.
QUOTA_COUNTED: tuple[UsageStatus, ...] = (*BILLABLE, "pending")


def encode_time(value: datetime) -> str:
    """A UTC ISO-8601 string of fixed width, so that text order is time order."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"the store takes timezone-aware datetimes, got naive {value!r}")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def decode_time(text: str) -> datetime:
    """The timezone-aware UTC datetime of a stored time."""
    return datetime.fromisoformat(text).astimezone(UTC)


def day_start(day: date) -> str:
    """The stored form of midnight UTC at the start of a day."""
    return encode_time(datetime.combine(day, time(), UTC))


def next_day_start(day: date) -> str:
    """The stored form of midnight UTC at the end of a day."""
    return day_start(day + timedelta(days=1))


def normalize_email(email: str) -> str:
    """The stored, case-folded form of an email address."""
    return email.strip().lower()


def user_from_row(row: dict[str, Any]) -> UserRecord:
    """A user record from its row."""
    return UserRecord(
        id=str(row["id"]),
        email=str(row["email"]),
        password_hash=str(row["password_hash"]),
        plan=str(row["plan"]),
        created_at=decode_time(row["created_at"]),
    )


def api_key_row(key: ApiKeyRecord) -> dict[str, Any]:
    """The row of a new API key."""
    return {
        "id": key.id,
        "user_id": key.user_id,
        "name": key.name,
        "key_hash": key.key_hash,
        "prefix": key.prefix,
        "permissions": json.dumps(list(key.permissions)),
        "requests_per_minute": key.requests_per_minute,
        "created_at": encode_time(key.created_at),
        "last_used": encode_time(key.last_used) if key.last_used else None,
    }


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
        last_used=decode_time(row["last_used"]) if row["last_used"] else None,
    )


def message_row(user_id: str, session_id: str, message: StoredMessage) -> dict[str, Any]:
    """The row of one session turn."""
    return {
        "user_id": user_id,
        "session_id": session_id,
        "role": message.role,
        "content": message.content,
        "images": json.dumps(list(message.images)),
        "created_at": encode_time(message.created_at),
    }


def message_from_row(row: dict[str, Any]) -> StoredMessage:
    """A session turn from its row."""
    return StoredMessage(
        role=cast(Literal["user", "assistant"], row["role"]),
        content=str(row["content"]),
        created_at=decode_time(row["created_at"]),
        images=tuple(str(i) for i in json.loads(row["images"])),
    )


def usage_row(record: UsageRecord) -> dict[str, Any]:
    """The ledger row of a usage record."""
    return {
        "request_id": record.request_id,
        "user_id": record.user_id,
        "key_id": record.key_id,
        "service": record.service,
        "model": record.model,
        "prompt_tokens": record.prompt_tokens,
        "completion_tokens": record.completion_tokens,
        # float() so an int cost (0) is stored and summed as the same REAL the caller reported
        "cost_usd": float(record.cost_usd),
        "status": record.status,
        "usage_source": record.usage_source,
        "session_id": record.session_id,
        "response_time_ms": record.response_time_ms,
        "created_at": encode_time(record.created_at),
    }


def reservation_row(record: UsageRecord) -> dict[str, Any]:
    """The ledger row of an admitted call, pending until settled."""
    if record.status != "pending":
        raise ValueError(f"a reservation has status 'pending', not {record.status!r}")
    return usage_row(record)


def settled_row(record: UsageRecord) -> dict[str, Any]:
    """The ledger row of a settled call; its record's time is when it was settled."""
    if record.status == "pending":
        raise ValueError("a settlement cannot leave a call pending")
    return {**usage_row(record), "settled_at": encode_time(record.created_at)}


class ExactSum:
    """SQLite aggregate `fsum`: the correctly rounded sum of the recorded costs.

    SQLite's SUM adds doubles one by one in scan order, so a total could drift from the sum of
    the figures the responses reported; fsum is exact and independent of order.
    """

    def __init__(self) -> None:
        self._values: list[float] = []

    def step(self, value: float | None) -> None:
        """Take one value of the group."""
        if value is not None:
            self._values.append(float(value))

    def finalize(self) -> float:
        """The group's exact total."""
        return math.fsum(self._values)
