"""What an alert is and what it measures, as pure functions: the checks of a new alert, and for
a caller, the figure its threshold is measured against in the current period."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from aihub_core.errors import InvalidRequestError
from aihub_core.identity import Caller
from aihub_core.limits.spend import BUDGET_PERIODS, SpendLimit, period_end, period_name, period_start
from aihub_core.pricing import PICO_PER_USD, printed, usd
from aihub_core.store.base import AlertRecord

METRICS = ("cost_usd", "requests", "tokens")
RELATIVE_TO = ("budget", "quota")
# What each metric may be a fraction of: spend of a budget in USD, requests of the monthly quota.
_OF_METRIC = {"cost_usd": "budget", "requests": "quota"}
MAX_NAME = 100
# An absolute amount: at most a million USD, or a trillion requests or tokens, per period.
MAX_USD = 1_000_000
MAX_COUNT = 10**12
# And at least a millionth of a USD (a smaller one rounds to a limit of 0, which never fires), or
# one request or token.
MIN_USD = 0.000001
MIN_COUNT = 1


@dataclass(frozen=True)
class AlertSpec:
    """A new alert as asked: `threshold` of `of`, or `value` per `period` (None: not given)."""

    metric: str
    threshold: float | None = None
    of: str = ""
    value: float | None = None
    period: str = ""
    name: str = ""


@dataclass(frozen=True)
class Measure:
    """What an alert measures in the period `now` falls in: its limit (in the metric's unit:
    pico-USD, or a count; 0 when there is nothing to measure against) and the period."""

    limit: int
    period: str
    start: datetime
    ends: datetime

    @property
    def key(self) -> str:
        """The period's name: one event per alert per key (`d2026-12-03`, `m2026-12`)."""
        return period_name(self.period, self.start)


def _bad(message: str, param: str) -> InvalidRequestError:
    return InvalidRequestError(message, param=param)


def checked(spec: AlertSpec, caller: Caller) -> tuple[float, str, int, str]:
    """The alert's (threshold, of, amount, period) as stored, or the 400 naming the field that
    makes no sense (with the caller's budgets and plan: a fraction of nothing is refused)."""
    if spec.metric not in METRICS:
        raise _bad(f"metric must be one of {', '.join(METRICS)}", "metric")
    if len(spec.name) > MAX_NAME:
        raise _bad(f"name must be at most {MAX_NAME} characters", "name")
    if spec.threshold is not None and spec.value is not None:
        raise _bad("give either threshold (with of) or value (with period), not both", "value")
    if spec.threshold is None and spec.value is None:
        raise _bad("give threshold (a fraction of of) or value (an amount per period)", "threshold")
    if spec.threshold is not None:
        return _relative(spec, caller)
    return _absolute(spec)


def _relative(spec: AlertSpec, caller: Caller) -> tuple[float, str, int, str]:
    threshold = spec.threshold
    assert threshold is not None
    if not (math.isfinite(threshold) and 0 < threshold <= 1):
        raise _bad("threshold must be more than 0 and at most 1 (0.8 fires at 80 %)", "threshold")
    if spec.period:
        raise _bad("period goes with value; a threshold follows its budget's or quota's period", "period")
    if spec.of not in RELATIVE_TO:
        raise _bad("of must be budget or quota with a threshold", "of")
    if _OF_METRIC.get(spec.metric) != spec.of:
        fits = {m for m, of in _OF_METRIC.items() if of == spec.of}
        raise _bad(
            f"a threshold of the {spec.of} measures {', '.join(sorted(fits))}, not {spec.metric}", "of"
        )
    if spec.of == "budget" and budget_of(caller) is None:
        raise _bad("your account has no budget in USD (its own or its plan's) to take a fraction of", "of")
    if spec.of == "quota" and not caller.plan.monthly_requests:
        raise _bad(f"the {caller.plan.name} plan has no monthly request quota to take a fraction of", "of")
    return threshold, spec.of, 0, ""


def _absolute(spec: AlertSpec) -> tuple[float, str, int, str]:
    value = spec.value
    assert value is not None
    if spec.of:
        raise _bad("of goes with threshold; an absolute value has a period", "of")
    period = spec.period or "month"
    if period not in BUDGET_PERIODS:
        raise _bad("period must be day or month", "period")
    least, most = (MIN_USD, MAX_USD) if spec.metric == "cost_usd" else (MIN_COUNT, MAX_COUNT)
    if not (math.isfinite(value) and least <= value <= most):
        raise _bad(f"value must be at least {least:g} and at most {most}", "value")
    if spec.metric == "cost_usd":
        return 0.0, "", int(printed(value) * PICO_PER_USD), period
    return 0.0, "", math.ceil(value), period


def budget_of(caller: Caller) -> SpendLimit | None:
    """The budget a `cost_usd` alert of `budget` measures: the user's own, else the plan's monthly
    budget per user (a key's budget is the key's, not the account's)."""
    if caller.user_budget is not None:
        return caller.user_budget
    plan_budget = caller.plan.monthly_budget
    return None if plan_budget is None else SpendLimit(plan_budget, "month")


def measure(alert: AlertRecord, caller: Caller, now: datetime) -> Measure:
    """The alert's limit and period at `now`, for the caller's budgets and plan as they are now."""
    if not alert.of:
        limit, period = alert.amount, alert.period
    elif alert.of == "budget":
        budget = budget_of(caller)
        limit, period = (
            (0, "month") if budget is None else (math.ceil(alert.threshold * budget.limit), budget.period)
        )
    else:
        limit, period = math.ceil(alert.threshold * caller.plan.monthly_requests), "month"
    return Measure(limit, period, period_start(period, now), period_end(period, now))


def fired_in(alert: AlertRecord, measure: Measure) -> bool:
    """Whether the alert already fired in the measured period (a firing since, in a later period,
    says nothing of this one)."""
    fired = alert.last_fired_at
    return fired is not None and measure.start <= fired < measure.ends


def shown(metric: str, amount: int) -> float:
    """An amount in the metric's unit as the API shows it: USD, or a count."""
    return usd(amount) if metric == "cost_usd" else float(amount)
