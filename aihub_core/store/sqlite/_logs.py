"""The SQLite store's request logs: ledger rows, newest first, one keyset page at a time."""

from __future__ import annotations

from typing import Any, Literal, cast

from aihub_core.store import rows
from aihub_core.store.records import UsageLogEntry, UsageLogQuery, UsageRecord, UsageStatus
from aihub_core.store.sqlite import _codec as codec
from aihub_core.store.sqlite._sqlite_utils import Database

# The (user_id, created_at) index, read backwards; request_id breaks ties between rows of one
# microsecond so that the order, and the cursor's place in it, is total.
_SELECT = (
    "SELECT u.*, k.name AS key_name FROM usage_records u LEFT JOIN api_keys k ON k.id = u.key_id "
    "WHERE u.user_id = :user_id"
)
_ORDER = " ORDER BY u.created_at DESC, u.request_id DESC LIMIT :limit"


def usage_logs(db: Database, user_id: str, query: UsageLogQuery) -> list[UsageLogEntry]:
    """One page of the user's ledger rows matching the query, newest first."""
    query = rows.checked_log_query(query)
    params: dict[str, Any] = {"user_id": user_id, "limit": query.limit}
    sql = _SELECT
    for column in ("model", "status", "key_id"):
        value = getattr(query, column)
        if value is not None:
            sql += f" AND u.{column} = :{column}"
            params[column] = value
    if query.start is not None:
        sql += " AND u.created_at >= :start"
        params["start"] = codec.encode_time(query.start)
    if query.end is not None:
        sql += " AND u.created_at < :end"
        params["end"] = codec.encode_time(query.end)
    if query.after is not None:
        sql += " AND (u.created_at < :at OR (u.created_at = :at AND u.request_id < :request_id))"
        params["at"] = codec.encode_time(query.after[0])
        params["request_id"] = query.after[1]
    return [_entry(row) for row in db.query(sql + _ORDER, params)]


def _entry(row: dict[str, Any]) -> UsageLogEntry:
    record = UsageRecord(
        request_id=str(row["request_id"]),
        user_id=str(row["user_id"]),
        key_id=row["key_id"],
        service=str(row["service"]),
        model=str(row["model"]),
        prompt_tokens=int(row["prompt_tokens"]),
        completion_tokens=int(row["completion_tokens"]),
        cost_pico_usd=int(row["cost_pico_usd"]),
        status=cast(UsageStatus, row["status"]),
        usage_source=cast(Literal["provider", "estimated", "none"], row["usage_source"]),
        created_at=codec.decode_time(row["created_at"]),
        session_id=row["session_id"],
        response_time_ms=int(row["response_time_ms"]),
    )
    settled = row["settled_at"]
    return UsageLogEntry(record, row["key_name"], None if settled is None else codec.decode_time(settled))
