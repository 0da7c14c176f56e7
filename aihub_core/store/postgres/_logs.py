"""The PostgreSQL store's request logs: ledger rows, newest first, one keyset page at a time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import asyncpg

from aihub_core.store import rows
from aihub_core.store.records import UsageLogEntry, UsageLogQuery, UsageRecord

if TYPE_CHECKING:
    from aihub_core.store.postgres._queries import Conn

_SELECT = (
    "SELECT u.*, k.name AS key_name FROM usage_records u LEFT JOIN api_keys k ON k.id = u.key_id "
    "WHERE u.user_id = $1"
)


async def usage_logs(conn: Conn, user_id: str, query: UsageLogQuery) -> list[UsageLogEntry]:
    """One page of the user's ledger rows matching the query, newest first (the (user_id,
    created_at) index read backwards; request_id breaks ties)."""
    query = rows.checked_log_query(query)
    params: list[Any] = [user_id]
    sql = _SELECT

    def bind(value: object) -> str:
        params.append(value)
        return f"${len(params)}"

    for column in ("model", "status", "key_id"):
        value = getattr(query, column)
        if value is not None:
            sql += f" AND u.{column} = {bind(value)}"
    if query.start is not None:
        sql += f" AND u.created_at >= {bind(query.start)}"
    if query.end is not None:
        sql += f" AND u.created_at < {bind(query.end)}"
    if query.after is not None:
        sql += f" AND (u.created_at, u.request_id) < ({bind(query.after[0])}, {bind(query.after[1])})"
    sql += f" ORDER BY u.created_at DESC, u.request_id DESC LIMIT {bind(query.limit)}"
    return [_entry(row) for row in await conn.fetch(sql, *params)]


def _entry(row: asyncpg.Record) -> UsageLogEntry:
    record = UsageRecord(
        request_id=row["request_id"],
        user_id=row["user_id"],
        key_id=row["key_id"],
        service=row["service"],
        model=row["model"],
        prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"],
        cost_pico_usd=row["cost_pico_usd"],
        status=row["status"],
        usage_source=row["usage_source"],
        created_at=row["created_at"],
        session_id=row["session_id"],
        response_time_ms=row["response_time_ms"],
    )
    return UsageLogEntry(record, row["key_name"], row["settled_at"])
