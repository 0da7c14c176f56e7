"""The PostgreSQL store's reports over the ledger (`protocols.reports`): the daily rollup, top
models, a user's usage by model and by key, spend and the quota's count."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import asyncpg

from aihub_core.store import rows
from aihub_core.store.postgres._queries import BILLABLE_SQL
from aihub_core.store.records import DailyTotals, GroupTotals, ModelTotals, UsageBreakdown

if TYPE_CHECKING:
    from aihub_core.store.postgres._queries import Conn


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


# A user's billable records of a range of days, through the (user_id, created_at) index; the sums
# as the rollup makes them, so the groups add up to `daily_usage`'s totals. Ties are broken in
# byte order (COLLATE "C"), as SQLite breaks them, whatever the database's collation.
_GROUPED = (
    "SELECT {column}, count(*) AS requests, sum(prompt_tokens) AS prompt, "
    "sum(completion_tokens) AS completion, sum(cost_pico_usd) AS cost FROM usage_records "
    f"WHERE user_id = $1 AND created_at >= $2 AND created_at < $3 AND {BILLABLE_SQL} GROUP BY {{column}}"
)
_BY_MODEL = _GROUPED.format(column="model") + ' ORDER BY cost DESC, requests DESC, model COLLATE "C"'
_BY_KEY = (
    f"SELECT g.*, k.name AS key_name FROM ({_GROUPED.format(column='key_id')}) g "
    "LEFT JOIN api_keys k ON k.id = g.key_id "
    "ORDER BY g.cost DESC, g.requests DESC, coalesce(g.key_id, '') COLLATE \"C\""
)


async def usage_breakdown(conn: Conn, user_id: str, first: date, last: date) -> UsageBreakdown:
    """The user's billable records of the days first..last, grouped by model and by key, both
    read from one snapshot (so the two lists add up to the same totals)."""
    window = (user_id, rows.day_start(first), rows.day_start(last + timedelta(days=1)))
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        by_model = await conn.fetch(_BY_MODEL, *window)
        by_key = await conn.fetch(_BY_KEY, *window)
    return UsageBreakdown(
        by_model=[_group(row, model=row["model"]) for row in by_model],
        by_key=[_group(row, key_id=row["key_id"], key_name=row["key_name"]) for row in by_key],
    )


def _group(
    row: asyncpg.Record, model: str | None = None, key_id: str | None = None, key_name: str | None = None
) -> GroupTotals:
    counts = (int(row[name]) for name in ("requests", "prompt", "completion", "cost"))
    return GroupTotals(model, key_id, key_name, *counts)


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
    first_whole = rows.first_whole_day(since)
    sql = f"""
        SELECT (SELECT coalesce(sum(requests), 0) FROM usage_daily WHERE user_id = $1 AND day >= $3)
             + (SELECT count(*) FROM usage_records
                WHERE user_id = $1 AND created_at >= $2 AND created_at < $4 AND {BILLABLE_SQL})
             + (SELECT count(*) FROM usage_records
                WHERE user_id = $1 AND status = 'pending' AND created_at >= $2)
    """
    return int(await conn.fetchval(sql, user_id, since, first_whole, rows.day_start(first_whole)))


# `count_requests` and `daily_usage`'s cost for each id of a list, in one statement: the same
# subqueries, correlated on each id (so each reads through the same index as the single reads).
_MONTH_FIGURES = f"""
    SELECT ids.id,
        (SELECT coalesce(sum(requests), 0) FROM usage_daily WHERE user_id = ids.id AND day >= $3)
        + (SELECT count(*) FROM usage_records WHERE user_id = ids.id AND created_at >= $2
           AND created_at < $4 AND {BILLABLE_SQL})
        + (SELECT count(*) FROM usage_records WHERE user_id = ids.id AND status = 'pending'
           AND created_at >= $2) AS requests,
        (SELECT coalesce(sum(cost_pico_usd), 0) FROM usage_daily
         WHERE user_id = ids.id AND day BETWEEN $5 AND $6) AS cost
    FROM unnest($1::text[]) AS ids(id)
"""


async def month_figures(
    conn: Conn, user_ids: Sequence[str], since: datetime, first: date, last: date
) -> dict[str, tuple[int, int]]:
    """Each user's `count_requests(since)` and cost of the days first..last, a chunk of ids per
    statement."""
    since = rows.utc(since)
    first_whole = rows.first_whole_day(since)
    figures: dict[str, tuple[int, int]] = {}
    for chunk in rows.id_chunks(user_ids):
        found = await conn.fetch(
            _MONTH_FIGURES, chunk, since, first_whole, rows.day_start(first_whole), first, last
        )
        for row in found:
            figures[row["id"]] = (int(row["requests"]), int(row["cost"]))
    return figures
