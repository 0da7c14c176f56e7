"""Live quota: snapshots of a caller's quota and rate-limit budget, pushed as they change."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aihub_core.limits.admitter import Admitter, RequestCounter
from aihub_core.limits.plans import Plan
from aihub_core.limits.rules import Budget, Subject
from aihub_core.limits.spend import BudgetFigures, caller_budgets
from aihub_core.periods import month_start, next_month_start


class Watchers:
    """The WatchQuota streams of this process waiting for a user's figures to change."""

    def __init__(self) -> None:
        self._events: dict[str, set[asyncio.Event]] = {}

    def add(self, user_id: str) -> asyncio.Event:
        """A new event, set by every `wake` of the user until it is removed."""
        event = asyncio.Event()
        self._events.setdefault(user_id, set()).add(event)
        return event

    def remove(self, user_id: str, event: asyncio.Event) -> None:
        events = self._events.get(user_id, set())
        events.discard(event)
        if not events:
            self._events.pop(user_id, None)

    def wake(self, user_id: str) -> None:
        for event in self._events.get(user_id, ()):
            event.set()

    def wake_all(self) -> None:
        for events in self._events.values():
            for event in events:
                event.set()

    def users(self) -> set[str]:
        """The users watched now."""
        return set(self._events)


@dataclass(frozen=True)
class QuotaSnapshot:
    """The caller's monthly quota and per-minute budget at one moment."""

    plan: Plan
    quota_used: int
    reset_date: datetime
    budget: Budget
    # The budgets in USD the caller counts against (its API key's), in their current period.
    budgets: tuple[BudgetFigures, ...] = ()

    @property
    def quota_limit(self) -> int:
        return self.plan.monthly_requests

    @property
    def quota_remaining(self) -> int:
        return max(0, self.quota_limit - self.quota_used) if self.quota_limit else 0


class QuotaWatch:
    """Streams snapshots: one at once, then one per change (changes in a burst coalesce)."""

    def __init__(
        self,
        ledger: RequestCounter,
        admitter: Admitter,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._ledger = ledger
        self._admitter = admitter
        self._now = now

    async def snapshot(self, caller: Subject) -> QuotaSnapshot:
        """The figures now; the quota counts calls in flight when the admitter has counted them."""
        now = self._now()
        used = await self._admitter.quota_used(caller.user_id)
        if used is None:
            used = await self._ledger.count_requests(caller.user_id, month_start(now))
        budget = await self._admitter.budget(caller)
        return QuotaSnapshot(caller.plan, used, next_month_start(now), budget, await self.budgets(caller))

    async def budgets(self, caller: Subject) -> tuple[BudgetFigures, ...]:
        """The caller's budgets in USD now: spent as counted (the ledger's sum until counted), and
        the worst cases held by calls in flight."""
        asks = caller_budgets(caller, caller.plan.monthly_budget)
        return tuple(await self._admitter.budgets(caller, asks)) if asks else ()

    async def snapshots(self, caller: Subject) -> AsyncGenerator[QuotaSnapshot, None]:
        """Snapshots until the consumer stops; also one when the minute window refills."""
        async with self._admitter.watch(caller.user_id) as changed:
            while True:
                changed.clear()
                current = await self.snapshot(caller)
                yield current
                until_refill = max(0.05, current.budget.window_reset - self._now().timestamp())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), timeout=until_refill)
