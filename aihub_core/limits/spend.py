"""Budgets in USD, as pure functions: periods, what a call asks of a budget, and the refusals.

A budget (an API key's) allows `limit` pico-USD of spend per UTC day or calendar month. Admission
holds the call's worst-case cost against it ("reserved") atomically with the other limits, and
admits only if spent + reserved + the worst case stays within the limit; the call's release
replaces its reservation with the cost its ledger row charged ("spent"). So settled spend never
passes the budget, however many calls run at once. The spend of a period starts from the ledger
(`SpendCounter.key_spent`), so it survives restarts (docs/accounting.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from aihub_core.errors import InvalidRequestError, RateLimitError
from aihub_core.periods import month_start, next_month_start
from aihub_core.pricing import usd

BUDGET_PERIODS = ("day", "month")


@dataclass(frozen=True)
class SpendLimit:
    """A budget as configured: `limit` pico-USD per `period` (`day` or `month`, UTC)."""

    limit: int
    period: str


@dataclass(frozen=True)
class BudgetAsk:
    """What one call asks of one budget: its worst-case `cost` (pico-USD) held until it settles.
    `scope` names whose budget it is (`key:ID`)."""

    scope: str
    budget: SpendLimit
    cost: int


@dataclass(frozen=True)
class BudgetFigures:
    """A budget in its current period: what is settled and what the calls in flight hold."""

    scope: str
    budget: SpendLimit
    spent: int
    reserved: int
    resets_at: datetime


class SpendCounter(Protocol):
    """Where a period's spend starts: the ledger (`Store.key_spent`, `Store.user_spent`)."""

    async def key_spent(self, key_id: str, since: datetime) -> int: ...

    async def user_spent(self, user_id: str, since: datetime) -> int: ...


class Budgeted(Protocol):
    """A caller with the budgets it may count against (`identity.Caller`)."""

    @property
    def user_id(self) -> str: ...

    @property
    def key_id(self) -> str | None: ...

    @property
    def key_budget(self) -> SpendLimit | None: ...

    @property
    def user_budget(self) -> SpendLimit | None: ...


def caller_budgets(caller: Budgeted, plan_budget: int | None, cost: int = 0) -> tuple[BudgetAsk, ...]:
    """The budgets a caller's calls count against, each asked `cost`: its API key's, its own (the
    user's) and its plan's monthly budget per user, those that are set."""
    asks = []
    user_id, key_budget = caller.user_id, caller.key_budget
    if caller.key_id is not None and key_budget is not None:
        asks.append(BudgetAsk(f"key:{caller.key_id}", key_budget, cost))
    if caller.user_budget is not None:
        asks.append(BudgetAsk(f"user:{user_id}", caller.user_budget, cost))
    if plan_budget is not None:
        asks.append(BudgetAsk(f"plan:{user_id}", SpendLimit(plan_budget, "month"), cost))
    return tuple(asks)


def period_start(period: str, now: datetime) -> datetime:
    """The start of the period `now` falls in (UTC)."""
    if period == "day":
        return datetime(now.year, now.month, now.day, tzinfo=UTC)
    return month_start(now)


def period_end(period: str, now: datetime) -> datetime:
    """When the period `now` falls in ends and the budget starts afresh."""
    if period == "day":
        return period_start(period, now) + timedelta(days=1)
    return next_month_start(now)


def period_name(period: str, now: datetime) -> str:
    """The period's name in counter keys: `d2026-12-03` or `m2026-12`."""
    return now.strftime("d%Y-%m-%d") if period == "day" else now.strftime("m%Y-%m")


def counter_name(ask_scope: str, period: str, now: datetime) -> str:
    """The counter of one budget in one period, e.g. `key:key_1@d2026-12-03`."""
    return f"{ask_scope}@{period_name(period, now)}"


async def ledger_spent(ledger: SpendCounter, scope: str, period: str, now: datetime) -> int:
    """The spend the ledger has settled for the budget's scope since the period began."""
    kind, _, ident = scope.partition(":")
    if kind == "key":
        return await ledger.key_spent(ident, period_start(period, now))
    if kind in ("plan", "user"):
        return await ledger.user_spent(ident, period_start(period, now))
    raise ValueError(f"no ledger sum for budgets of scope {scope!r}")


def first_over(asks: tuple[BudgetAsk, ...], held: list[tuple[int, int]]) -> int | None:
    """The index of the first budget the asks would overrun, given each one's (spent, reserved)."""
    for i, (ask, (spent, reserved)) in enumerate(zip(asks, held, strict=True)):
        if spent + reserved + ask.cost > ask.budget.limit:
            return i
    return None


# Whose budget a scope is, in the refusals' words.
_WHOSE = {"key": "this API key", "plan": "your plan (per user)", "user": "your account"}


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def budget_exceeded(figures: BudgetFigures, now: datetime) -> RateLimitError:
    """The 429 for a call whose worst case does not fit what is left of a budget."""
    budget = figures.budget
    whose = _WHOSE[figures.scope.split(":")[0]]
    return RateLimitError(
        f"The {budget.period}ly budget of {usd(budget.limit)} USD of {whose} cannot hold this call: "
        f"{usd(figures.spent)} USD spent and {usd(figures.reserved)} USD reserved by calls in flight",
        code="budget_exceeded",
        retry_after=math.ceil((figures.resets_at - now).total_seconds()),
        details={
            "limit_usd": repr(usd(budget.limit)),
            "spent_usd": repr(usd(figures.spent)),
            "reserved_usd": repr(usd(figures.reserved)),
            "resets_at": _iso(figures.resets_at),
            "scope": figures.scope.split(":")[0],
            "period": budget.period,
        },
        suggestion="Wait for the reset, lower max_tokens, or raise the budget",
    )


def check_fits_budgets(asks: tuple[BudgetAsk, ...]) -> None:
    """A call whose worst case alone exceeds a whole budget could never be admitted: a 400."""
    for ask in asks:
        if ask.cost > ask.budget.limit:
            raise InvalidRequestError(
                f"This request may cost up to {usd(ask.cost)} USD (its prompt and max_tokens at the model's "
                f"prices), more than the whole {ask.budget.period}ly budget of {usd(ask.budget.limit)} USD "
                f"of {_WHOSE[ask.scope.split(':')[0]]}; lower max_tokens or shorten the conversation",
                code="request_exceeds_budget",
                param="max_tokens",
                details={"limit_usd": repr(usd(ask.budget.limit)), "worst_case_usd": repr(usd(ask.cost))},
            )
