"""The operators' use cases (AdminService): every account with this month's figures and budget, a
plan or budget change, the plans, the gateway's usage over a range and the services' health.
Only an admin's login token may call them; the role is read from the store on each call, so a
role taken away stops the next call."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aihub_core.errors import InvalidRequestError, NotFoundError, PermissionDeniedError
from aihub_core.identity import Caller
from aihub_core.limits.plans import BUILTIN_PLANS, Plan, Plans
from aihub_core.limits.spend import BUDGET_PERIODS
from aihub_core.periods import Window, month_start, resolve_window
from aihub_core.pricing import usd
from aihub_core.resilience import BreakerState, CircuitBreaker
from aihub_core.services.keys import MAX_BUDGET_USD, budget_pico_usd
from aihub_core.store.base import DailyTotals, ModelTotals, Store, UserRecord

# The overview's range when none is given: the last 30 days, today included.
OVERVIEW_DAYS = 30
DEFAULT_TOP_MODELS = 10
MAX_TOP_MODELS = 100


@dataclass(frozen=True)
class AccountSummary:
    """One account and its calendar month so far (UTC): requests as the quota counts them, and
    the exact cost of its billable calls; with its plan's monthly budget (pico-USD) if any."""

    user: UserRecord
    month_requests: int
    month_cost_usd: float
    plan_budget: int | None = None


@dataclass(frozen=True)
class Overview:
    """The whole gateway's billable usage per day over `window`, and its most costly models."""

    window: Window
    days: list[DailyTotals]
    top_models: list[ModelTotals]


@dataclass(frozen=True)
class Breaker:
    model: str
    state: BreakerState
    retry_in: float


@dataclass(frozen=True)
class ServiceHealth:
    """One service as this process sees it: simulated or live, and its models' breakers."""

    name: str
    simulated: bool
    is_default: bool
    breakers: list[Breaker]

    @property
    def status(self) -> str:
        """`healthy` (every breaker closed), `degraded` (some not) or `down` (all open)."""
        states = [b.state for b in self.breakers]
        if states and all(s is BreakerState.OPEN for s in states):
            return "down"
        return "healthy" if all(s is BreakerState.CLOSED for s in states) else "degraded"


# (service, model, breaker) of every model this process has called (`Router.breakers`).
BreakerSource = Callable[[], Sequence[tuple[str, str, CircuitBreaker]]]


class Admin:
    def __init__(
        self,
        store: Store,
        plans: Plans,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        breakers: BreakerSource = list,
    ) -> None:
        self._store = store
        self._plans = plans
        self._now = now
        self._breakers = breakers

    async def users(self, caller: Caller) -> list[UserRecord]:
        """Every account, oldest first."""
        await self._require_admin(caller)
        return await self._store.list_users()

    async def summaries(self, users: list[UserRecord]) -> list[AccountSummary]:
        """This month's figures of `users` (a page of `users()`), read together: one grouped read
        of the store for the page (`month_figures`), not two per account."""
        now = self._now()
        first = month_start(now)
        figures = await self._store.month_figures([u.id for u in users], first, first.date(), now.date())
        return [self._summarized(user, *figures.get(user.id, (0, 0))) for user in users]

    async def set_plan(self, caller: Caller, user_id: str, plan: str) -> AccountSummary:
        """Move the account to `plan` (a known one: InvalidRequestError otherwise)."""
        await self._require_admin(caller)
        self._plans.require(plan)
        user = await self._account(user_id)
        await self._store.set_plan(user.email, plan)
        return await self._summary(await self._account(user_id))

    async def set_budget(
        self, caller: Caller, user_id: str, limit_usd: float | None, period: str
    ) -> AccountSummary:
        """Set the account's own budget (`limit_usd` per `period`, default month), or remove it
        with 0, as `aihub users set-budget` does; a request without `limit_usd` is refused, never
        read as 0."""
        await self._require_admin(caller)
        if limit_usd is None:
            raise InvalidRequestError(
                "limit_usd is required (0 removes the account's budget)",
                code="missing_parameter",
                param="limit_usd",
            )
        period = period or "month"
        if period not in BUDGET_PERIODS:
            raise InvalidRequestError("period must be day or month", param="period")
        if not (math.isfinite(limit_usd) and 0 <= limit_usd <= MAX_BUDGET_USD):
            raise InvalidRequestError(
                f"limit_usd must be 0 to {MAX_BUDGET_USD} (0 removes)", param="limit_usd"
            )
        limit, kept = (None, None) if limit_usd == 0 else budget_pico_usd(limit_usd, period)
        user = await self._account(user_id)
        await self._store.set_user_budget(user.email, limit, kept)
        return await self._summary(await self._account(user_id))

    async def plans(self, caller: Caller) -> list[tuple[Plan, bool]]:
        """Every plan, and whether it is a built-in one."""
        await self._require_admin(caller)
        return [(plan, BUILTIN_PLANS.get(plan.name) == plan) for plan in self._plans.all()]

    async def overview(self, caller: Caller, start_date: str, end_date: str, top: int) -> Overview:
        """The gateway's usage per day over the range (default: the last 30 days) and its `top`
        most costly models (0: DEFAULT_TOP_MODELS)."""
        await self._require_admin(caller)
        if not 0 <= top <= MAX_TOP_MODELS:
            raise InvalidRequestError(f"top_models must be 0 to {MAX_TOP_MODELS}", param="top_models")
        today = self._now().date()
        if not start_date:
            last = resolve_window("", end_date, end_date, today).last if end_date else today
            start_date = (last - timedelta(days=OVERVIEW_DAYS - 1)).isoformat()
        window = resolve_window("", start_date, end_date, today)
        days = await self._store.gateway_daily_usage(window.first, window.last)
        models = await self._store.top_models(window.first, window.last, top or DEFAULT_TOP_MODELS)
        return Overview(window, days, models)

    async def health(
        self, caller: Caller, services: Sequence[str], default: str, simulated: Mapping[str, bool]
    ) -> list[ServiceHealth]:
        """Each service (in the order given) with this process's breakers of its models."""
        await self._require_admin(caller)
        by_service: dict[str, list[Breaker]] = {name: [] for name in services}
        for service, model, breaker in self._breakers():
            by_service.setdefault(service, []).append(Breaker(model, breaker.state, breaker.retry_in()))
        return [
            ServiceHealth(
                name, simulated.get(name, False), name == default, sorted(found, key=lambda b: b.model)
            )
            for name, found in by_service.items()
        ]

    async def _account(self, user_id: str) -> UserRecord:
        user = await self._store.get_user(user_id)
        if user is None:
            raise NotFoundError(f"No account with id {user_id}", code="not_found", param="user_id")
        return user

    async def _require_admin(self, caller: Caller) -> None:
        user = await self._store.get_user(caller.user_id)
        if user is None or user.role != "admin" or caller.key_id is not None:
            raise PermissionDeniedError("This call is for the gateway's admins only", code="admin_only")

    async def _summary(self, user: UserRecord) -> AccountSummary:
        [summary] = await self.summaries([user])
        return summary

    def _summarized(self, user: UserRecord, requests: int, cost_pico_usd: int) -> AccountSummary:
        plan_budget = self._plans.get(user.plan).monthly_budget
        return AccountSummary(user, requests, usd(cost_pico_usd), plan_budget)
