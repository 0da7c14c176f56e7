"""The SQLite store's reports over the ledger (`protocols.reports`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from aihub_core.store.records import DailyTotals, ModelTotals, UsageBreakdown, UsageLogEntry, UsageLogQuery
from aihub_core.store.sqlite import _logs, _reports
from aihub_core.store.sqlite._connection import SQLiteConnection


class SQLiteReports(SQLiteConnection):
    """`ReportStore` on SQLite."""

    async def daily_usage(self, user_id: str, first: date, last: date) -> list[DailyTotals]:
        """Billable totals per UTC day, first..last inclusive, oldest first; days without records omitted."""
        return await self._call(_reports.daily_usage, user_id, first, last)

    async def gateway_daily_usage(self, first: date, last: date) -> list[DailyTotals]:
        """Every user's billable totals per UTC day, first..last inclusive, oldest first (the rollup)."""
        return await self._call(_reports.gateway_daily_usage, first, last)

    async def top_models(self, first: date, last: date, limit: int) -> list[ModelTotals]:
        """The most costly (service, model)s of the days first..last (see the Protocol)."""
        if not 1 <= limit <= 1000:
            raise ValueError(f"limit must be 1 to 1000, not {limit}")
        return await self._call(_reports.top_models, first, last, limit)

    async def usage_breakdown(self, user_id: str, first: date, last: date) -> UsageBreakdown:
        """The user's billable records of the days first..last by model and by key (see the Protocol)."""
        return await self._call(_reports.usage_breakdown, user_id, first, last)

    async def count_requests(self, user_id: str, since: datetime) -> int:
        """Requests counted against the monthly quota since a moment: billable and pending ones."""
        return await self._call(_reports.count_requests, user_id, since)

    async def month_figures(
        self, user_ids: Sequence[str], since: datetime, first: date, last: date
    ) -> dict[str, tuple[int, int]]:
        """Each user's `count_requests` since a moment and cost of the days first..last, grouped."""
        return await self._call(_reports.month_figures, user_ids, since, first, last)

    async def key_spent(self, key_id: str, since: datetime) -> int:
        """The settled cost of a key's calls since a moment (see the Protocol)."""
        return await self._call(_reports.key_spent, key_id, since)

    async def user_spent(self, user_id: str, since: datetime) -> int:
        """The settled cost of a user's calls since a moment (see the Protocol)."""
        return await self._call(_reports.user_spent, user_id, since)

    async def usage_logs(self, user_id: str, query: UsageLogQuery) -> list[UsageLogEntry]:
        """One page of the user's ledger rows, newest first (see the Protocol)."""
        return await self._call(_logs.usage_logs, user_id, query)
