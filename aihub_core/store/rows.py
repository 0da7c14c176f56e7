"""The columns each record is stored as, with Python values, and the rules every backend applies
before it writes. A record's columns are its fields (times in UTC, emails normalized) and, for the
ledger and claims, a few more (`settled_at`, `owner`, `state`). A backend adapts the values (aware
UTC datetimes, tuples of strings) to its own column types and reads its rows back itself.

The checks run here, before any database is touched, so that every backend refuses the same
records the same way (ValueError): a naive datetime, a reservation that is not `pending`, a
settlement that is.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import fields, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from aihub_core.pricing import MAX_PICO_USD
from aihub_core.store.records import (
    AlertEvent,
    AlertRecord,
    ApiKeyRecord,
    IdempotencyRecord,
    RotatedSecret,
    StoredMessage,
    UsageLogQuery,
    UsageRecord,
    UsageStatus,
    UserRecord,
)

Row = dict[str, Any]

BILLABLE: tuple[UsageStatus, ...] = ("ok", "error", "cancelled")
# In-flight calls count against the monthly quota too, or a burst could overrun it before settling.
QUOTA_COUNTED: tuple[UsageStatus, ...] = (*BILLABLE, "pending")


def utc(value: datetime) -> datetime:
    """The same instant in UTC; ValueError for a naive datetime, which names no instant."""
    if value.tzinfo is UTC:  # already (the clock's times are): the same instant, as it is
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"the store takes timezone-aware datetimes, got naive {value!r}")
    return value.astimezone(UTC)


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of a day: the usage reports' days are UTC days."""
    return datetime.combine(day, time(), UTC)


def first_whole_day(since: datetime) -> date:
    """The first UTC day wholly after `since` (its own day if `since` is its midnight): the quota's
    count reads whole days from the daily rollup and the part of a day before them from the ledger."""
    since = utc(since)
    return since.date() if since == day_start(since.date()) else since.date() + timedelta(days=1)


# Ids per statement of a grouped read over many users (`month_figures`): bounded statements.
IDS_PER_QUERY = 500


def id_chunks(ids: Sequence[str], size: int = IDS_PER_QUERY) -> Iterator[list[str]]:
    """`ids` without repeats, in order, `size` at a time."""
    unique = list(dict.fromkeys(ids))
    for at in range(0, len(unique), size):
        yield unique[at : at + size]


def normalize_email(email: str) -> str:
    """The stored, case-folded form of an email address."""
    return email.strip().lower()


def user_row(user: UserRecord) -> Row:
    """The row of a new user: its fields, the email normalized."""
    return {**_fields(user), "email": normalize_email(user.email), "created_at": utc(user.created_at)}


def api_key_row(key: ApiKeyRecord) -> Row:
    """The row of a new API key: its fields, but `secret_expires_at` (a lookup's, not the key's)."""
    row = _fields(key)
    del row["secret_expires_at"]
    for name in ("created_at", "last_used", "expires_at", "rotated_at"):
        row[name] = None if row[name] is None else utc(row[name])
    return row


def rotated_secret_row(secret: RotatedSecret) -> Row:
    """The new secret's columns, its times in UTC."""
    return {
        "key_hash": secret.key_hash,
        "prefix": secret.prefix,
        "rotated_at": utc(secret.rotated_at),
        "old_secret_until": utc(secret.old_secret_until),
    }


def message_row(user_id: str, session_id: str, message: StoredMessage) -> Row:
    """The row of one session turn: its fields and its session's key."""
    return {
        "user_id": user_id,
        "session_id": session_id,
        **_fields(message),
        "created_at": utc(message.created_at),
    }


def usage_row(record: UsageRecord) -> Row:
    """The ledger row of a usage record: its fields; ValueError for a cost that is not a whole,
    non-negative number of pico-USD a 64-bit column holds."""
    cost = record.cost_pico_usd
    if not isinstance(cost, int) or isinstance(cost, bool) or not 0 <= cost <= MAX_PICO_USD:
        raise ValueError(f"a cost is a whole number of pico-USD from 0 to {MAX_PICO_USD}, got {cost!r}")
    return {**_fields(record), "created_at": utc(record.created_at)}


def reservation_row(record: UsageRecord, owner: str | None) -> Row:
    """The ledger row of an admitted call, pending until settled, tagged with its store's owner."""
    if record.status != "pending":
        raise ValueError(f"a reservation has status 'pending', not {record.status!r}")
    return {**usage_row(record), "owner": owner}


def settled_row(record: UsageRecord) -> Row:
    """The ledger row of a settled call; its record's time is when it was settled."""
    if record.status == "pending":
        raise ValueError("a settlement cannot leave a call pending")
    return {**usage_row(record), "settled_at": utc(record.created_at)}


def claim_row(claim: IdempotencyRecord, owner: str | None) -> Row:
    """The row of a new, pending Idempotency-Key claim, tagged with its store's owner."""
    return {
        "user_id": claim.user_id,
        "key": claim.key,
        "request_hash": claim.request_hash,
        "request_id": claim.request_id,
        "state": "pending",
        "created_at": utc(claim.created_at),
        "owner": owner,
    }


def _fields(
    record: UserRecord | ApiKeyRecord | StoredMessage | UsageRecord | AlertRecord | AlertEvent,
) -> Row:
    # Shallow, unlike dataclasses.asdict: the values are kept as they are (tuples stay tuples).
    names = _FIELD_NAMES.get(type(record))
    if names is None:
        names = _FIELD_NAMES[type(record)] = tuple(field.name for field in fields(record))
    return {name: getattr(record, name) for name in names}


# A record type -> its fields' names, in order (dataclasses.fields builds the list on every call).
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


MAX_LOG_PAGE = 10_000


def checked_log_query(query: UsageLogQuery) -> UsageLogQuery:
    """The query with its times in UTC; ValueError for a page length out of 1..MAX_LOG_PAGE or a
    naive time."""
    if not 1 <= query.limit <= MAX_LOG_PAGE:
        raise ValueError(f"a page of usage logs holds 1 to {MAX_LOG_PAGE} rows, not {query.limit}")
    after = None if query.after is None else (utc(query.after[0]), query.after[1])
    start = None if query.start is None else utc(query.start)
    end = None if query.end is None else utc(query.end)
    return replace(query, start=start, end=end, after=after)


def alert_row(alert: AlertRecord) -> Row:
    """The row of a new alert (`of` is the column `relative_to`: OF is an SQL keyword)."""
    row = _fields(alert)
    row["relative_to"] = row.pop("of")
    row["created_at"] = utc(alert.created_at)
    row["last_fired_at"] = None if alert.last_fired_at is None else utc(alert.last_fired_at)
    return row


def alert_event_row(event: AlertEvent) -> Row:
    """The outbox row of a new event: due at once, or (not to be delivered) never."""
    row = _fields(event)
    deliver = row.pop("deliver")
    row["created_at"] = utc(event.created_at)
    row["next_attempt_at"] = row["created_at"] if deliver else None
    return row
