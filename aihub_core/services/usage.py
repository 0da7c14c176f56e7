"""Usage and quota reports, read from the usage ledger."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aihub_core.identity import Caller
from aihub_core.limits.plans import Plan
from aihub_core.periods import Window, month_start, next_month_start, resolve_window
from aihub_core.pricing import usd
from aihub_core.store.base import DailyTotals, Store, UsageBreakdown


@dataclass(frozen=True)
class QuotaReport:
    """The plan, this month's request quota and when it resets."""

    plan: Plan
    quota_limit: int
    quota_used: int
    reset_date: datetime

    @property
    def quota_remaining(self) -> int:
        return max(0, self.quota_limit - self.quota_used) if self.quota_limit else 0


@dataclass(frozen=True)
class UsageReport:
    """Totals over a window, with one entry per day (zeros included) and the quota."""

    window: Window
    days: list[DailyTotals]
    quota: QuotaReport

    @property
    def total_requests(self) -> int:
        return sum(d.requests for d in self.days)

    @property
    def total_tokens(self) -> int:
        return sum(d.tokens for d in self.days)

    @property
    def total_cost_usd(self) -> float:
        """The exact sum of the days' costs, converted once."""
        return usd(sum(d.cost_pico_usd for d in self.days))


@dataclass(frozen=True)
class BreakdownReport:
    """A window's billable calls by model and by key: the calls `UsageReport` totals."""

    window: Window
    breakdown: UsageBreakdown


class UsageReporter:
    """Answers /usage, /usage/breakdown and /quota for the caller's account."""

    def __init__(self, store: Store, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._store = store
        self._now = now

    async def quota(self, caller: Caller) -> QuotaReport:
        """This month's quota figures for the caller's plan."""
        now = self._now()
        used = await self._store.count_requests(caller.user_id, month_start(now))
        return QuotaReport(caller.plan, caller.plan.monthly_requests, used, next_month_start(now))

    def window(self, period: str, start_date: str, end_date: str) -> Window:
        """The window a report asks for (the same for the totals and the breakdown)."""
        return resolve_window(period, start_date, end_date, self._now().date())

    async def usage(self, caller: Caller, period: str, start_date: str, end_date: str) -> UsageReport:
        """Totals for the requested window, every day of it listed."""
        window = self.window(period, start_date, end_date)
        rows = {d.day: d for d in await self._store.daily_usage(caller.user_id, window.first, window.last)}
        days = [rows.get(day) or DailyTotals(day, 0, 0, 0) for day in window.days()]
        return UsageReport(window, days, await self.quota(caller))

    async def breakdown(self, caller: Caller, period: str, start_date: str, end_date: str) -> BreakdownReport:
        """The requested window's billable calls by model and by key, adding up to `usage`'s totals."""
        window = self.window(period, start_date, end_date)
        return BreakdownReport(
            window, await self._store.usage_breakdown(caller.user_id, window.first, window.last)
        )
