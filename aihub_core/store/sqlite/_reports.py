"""The SQLite store's reports over the ledger (`protocols.reports`): the daily rollup, top models,
a user's usage by model and by key, spend and the quota's count."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from aihub_core.store import rows
from aihub_core.store.records import DailyTotals, GroupTotals, ModelTotals, UsageBreakdown
from aihub_core.store.sqlite import _codec as codec
from aihub_core.store.sqlite._queries import one
from aihub_core.store.sqlite._sqlite_utils import Database

_BILLABLE_SQL = "status IN ({})".format(", ".join(f"'{s}'" for s in rows.BILLABLE))


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


# A user's billable records of a range of days, through the (user_id, created_at) index; the sums
# as the rollup makes them, so the groups add up to `daily_usage`'s totals.
_GROUPED = (
    "SELECT {column}, count(*) AS requests, sum(prompt_tokens) AS prompt, "
    "sum(completion_tokens) AS completion, sum(cost_pico_usd) AS cost FROM usage_records "
    f"WHERE user_id = :user_id AND created_at >= :start AND created_at < :end AND {_BILLABLE_SQL} "
    "GROUP BY {column}"
)
_BY_MODEL = _GROUPED.format(column="model") + " ORDER BY cost DESC, requests DESC, model"
_BY_KEY = (
    "SELECT g.*, k.name AS key_name FROM ("
    + _GROUPED.format(column="key_id")
    + ") g LEFT JOIN api_keys k ON k.id = g.key_id "
    "ORDER BY g.cost DESC, g.requests DESC, coalesce(g.key_id, '')"
)


def usage_breakdown(db: Database, user_id: str, first: date, last: date) -> UsageBreakdown:
    """The user's billable records of the days first..last, grouped by model and by key."""
    params = {"user_id": user_id, "start": codec.day_start(first), "end": codec.next_day_start(last)}
    return UsageBreakdown(
        by_model=[_group(row, model=row["model"]) for row in db.query(_BY_MODEL, params)],
        by_key=[
            _group(row, key_id=row["key_id"], key_name=row["key_name"]) for row in db.query(_BY_KEY, params)
        ],
    )


def _group(
    row: dict[str, Any], model: str | None = None, key_id: str | None = None, key_name: str | None = None
) -> GroupTotals:
    counts = (int(row[name]) for name in ("requests", "prompt", "completion", "cost"))
    return GroupTotals(model, key_id, key_name, *counts)


def key_spent(db: Database, key_id: str, since: datetime) -> int:
    """The settled billable cost of a key's calls admitted since a moment (its own index)."""
    row = one(
        db,
        "SELECT coalesce(sum(cost_pico_usd), 0) AS n FROM usage_records "
        f"WHERE key_id = ? AND created_at >= ? AND {_BILLABLE_SQL}",
        [key_id, codec.encode_time(rows.utc(since))],
    )
    return int(row["n"]) if row else 0


def user_spent(db: Database, user_id: str, since: datetime) -> int:
    """The settled billable cost of a user's calls admitted since a moment."""
    row = one(
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
    first_whole = rows.first_whole_day(since)
    whole = one(
        db,
        "SELECT coalesce(sum(requests), 0) AS n FROM usage_daily WHERE user_id = ? AND day >= ?",
        [user_id, first_whole.isoformat()],
    )
    part_sql = (
        "SELECT count(*) AS n FROM usage_records WHERE user_id = ? AND created_at >= ? "
        f"AND created_at < ? AND {_BILLABLE_SQL}"
    )
    part = one(db, part_sql, [user_id, codec.encode_time(since), codec.day_start(first_whole)])
    in_flight = one(
        db,
        "SELECT count(*) AS n FROM usage_records "
        "WHERE user_id = ? AND status = 'pending' AND created_at >= ?",
        [user_id, codec.encode_time(since)],
    )
    return sum(int(row["n"]) if row else 0 for row in (whole, part, in_flight))


# `count_requests` and `daily_usage`'s cost for each id of a list, in one statement: the same
# subqueries, correlated on each id (so each reads through the same index as the single reads).
_MONTH_FIGURES = f"""
    WITH ids(id) AS (VALUES {{ids}})
    SELECT id,
        (SELECT coalesce(sum(requests), 0) FROM usage_daily WHERE user_id = ids.id AND day >= :whole)
        + (SELECT count(*) FROM usage_records WHERE user_id = ids.id AND created_at >= :since
           AND created_at < :whole_start AND {_BILLABLE_SQL})
        + (SELECT count(*) FROM usage_records WHERE user_id = ids.id AND status = 'pending'
           AND created_at >= :since) AS requests,
        (SELECT coalesce(sum(cost_pico_usd), 0) FROM usage_daily
         WHERE user_id = ids.id AND day >= :first AND day <= :last) AS cost
    FROM ids
"""


def month_figures(
    db: Database, user_ids: Sequence[str], since: datetime, first: date, last: date
) -> dict[str, tuple[int, int]]:
    """Each user's `count_requests(since)` and cost of the days first..last, a chunk of ids per
    statement."""
    since = rows.utc(since)
    first_whole = rows.first_whole_day(since)
    bounds = {
        "whole": first_whole.isoformat(),
        "since": codec.encode_time(since),
        "whole_start": codec.day_start(first_whole),
        "first": first.isoformat(),
        "last": last.isoformat(),
    }
    figures: dict[str, tuple[int, int]] = {}
    for chunk in rows.id_chunks(user_ids):
        ids = {f"u{i}": user_id for i, user_id in enumerate(chunk)}
        sql = _MONTH_FIGURES.format(ids=", ".join(f"(:{name})" for name in ids))
        for row in db.query(sql, {**bounds, **ids}):
            figures[row["id"]] = (int(row["requests"]), int(row["cost"]))
    return figures
