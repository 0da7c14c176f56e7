"""The rules of the limits, as pure functions over counters: what a call asks, which limit it
would break, how a refusal is worded, and what the X-RateLimit-* figures say.

Windows are fixed minutes aligned to the clock, so `X-RateLimit-Reset` is the next minute
boundary. A demand is checked against every limit before any counter moves, so a refusal consumes
nothing. Both admitters decide with these functions: `in_process.InProcessAdmitter` on counters in
one process, and `redis.admitter.RedisAdmitter` on the counters its Lua script read in Redis
(`docs/limits.md`), so the two refuse alike, to the letter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from aihub_core.errors import QuotaExceededError, RateLimitError
from aihub_core.limits.plans import Plan
from aihub_core.limits.spend import BudgetAsk, SpendLimit
from aihub_core.periods import next_month_start

WINDOW_SECONDS = 60
# A refused concurrent call is told to come back this soon: slots free up as calls end.
CONCURRENCY_RETRY_SECONDS = 1
CONCURRENCY_CODE = "concurrency_limit_exceeded"

# (scope, limit) per request counter: the user's plan, and the key's own limit if it has one.
Scopes = list[tuple[str, int]]


class Subject(Protocol):
    """Whose limits a call counts against: the user and their plan, and the API key used (if
    any) with its own requests-per-minute limit. `identity.Caller` is one."""

    @property
    def user_id(self) -> str: ...

    @property
    def plan(self) -> Plan: ...

    @property
    def key_id(self) -> str | None: ...

    @property
    def key_requests_per_minute(self) -> int | None: ...

    @property
    def key_budget(self) -> SpendLimit | None: ...

    @property
    def user_budget(self) -> SpendLimit | None: ...


@dataclass(frozen=True)
class Demand:
    """What one call asks of the limits: always one request of the minute; `tokens` of the
    minute's token budget (an estimate, settled at release); with `concurrent`, a slot among the
    calls in flight until release; with `counts_quota`, one call of the plan's monthly quota.

    With `read` (every call that is not a model call: listing models, services, usage, quota,
    keys), the request counts only against the read limit of its key (or, with a JWT, its user):
    the plan's limits and the key's own requests per minute are for model calls.

    `budgets`: the budgets in USD the call's worst-case cost is held against (`limits.spend`)."""

    tokens: int = 0
    concurrent: bool = False
    counts_quota: bool = False
    read: bool = False
    budgets: tuple[BudgetAsk, ...] = ()


# Reads per minute per API key (or per user, with a JWT) unless AIHUB_READ_RATE_LIMIT says otherwise.
DEFAULT_READ_LIMIT = 600


@dataclass(frozen=True)
class RateState:
    """What the X-RateLimit-* headers say: the effective limit (0 = none), what is left, when it resets."""

    limit: int
    remaining: int
    reset_epoch: int

    def metadata(self) -> tuple[tuple[str, str], ...]:
        """As gRPC metadata (the shim copies these to HTTP headers)."""
        return (
            ("x-ratelimit-limit", str(self.limit)),
            ("x-ratelimit-remaining", str(self.remaining)),
            ("x-ratelimit-reset", str(self.reset_epoch)),
        )


@dataclass(frozen=True)
class Budget:
    """What is left of a caller's per-minute limits now (limits of 0 mean none)."""

    requests_per_minute: int
    requests_remaining: int
    tokens_per_minute: int
    tokens_remaining: int
    concurrent_requests: int
    in_flight: int
    window_reset: int


@dataclass
class Grant:
    """An admitted call: what it holds until the admitter's `release`."""

    user_id: str
    tokens: int
    concurrent: bool
    state: RateState
    released: bool = field(default=False)
    # Per budget the call is held against: its counter (`spend.counter_name`) and the cost held.
    spend: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Broken:
    """The first limit a demand would break."""

    scope: str
    limit: int
    code: str
    what: str


def effective_limit(plan_limit: int, key_limit: int | None) -> int:
    """The lower of plan and key limits, where 0 or None means no limit."""
    limits = [x for x in (plan_limit, key_limit or 0) if x > 0]
    return min(limits) if limits else 0


def window(now: float) -> tuple[int, int]:
    """The number of the minute window `now` falls in, and when it ends (epoch seconds)."""
    number = int(now // WINDOW_SECONDS)
    return number, (number + 1) * WINDOW_SECONDS


def request_scopes(caller: Subject) -> Scopes:
    """The request counters a call of `caller` moves, with their limits (0 = none)."""
    scopes = [(f"user:{caller.user_id}", caller.plan.requests_per_minute)]
    if caller.key_id and caller.key_requests_per_minute:
        scopes.append((f"key:{caller.key_id}", caller.key_requests_per_minute))
    return scopes


def read_scope(caller: Subject) -> str:
    """The request counter a read of `caller` moves: its key's, or its user's with a JWT."""
    return f"read:key:{caller.key_id}" if caller.key_id else f"read:user:{caller.user_id}"


def read_state(limit: int, used: int, reset: int) -> RateState:
    """The X-RateLimit-* figures of a read: those of the read limit (0 = none)."""
    return RateState(limit, max(0, limit - used) if limit else 0, reset)


def read_refusal(caller: Subject, limit: int, used: int, reset: int, now: float) -> RateLimitError:
    """The 429 for a read past the read limit."""
    broken = Broken(read_scope(caller), limit, "rate_limit_exceeded", "read requests per minute")
    return refusal(broken, read_state(limit, used, reset), now)


def rate_state(caller: Subject, scopes: Scopes, used: Sequence[int], reset: int) -> RateState:
    """The X-RateLimit-* figures, given the requests counted in each scope."""
    limit = effective_limit(caller.plan.requests_per_minute, caller.key_requests_per_minute)
    remaining = [lim - n for (_, lim), n in zip(scopes, used, strict=True) if lim]
    return RateState(limit, max(0, min(remaining)) if remaining else 0, reset)


def first_broken(
    caller: Subject, demand: Demand, scopes: Scopes, used: Sequence[int], tokens_used: int, in_flight: int
) -> Broken | None:
    """The first limit the demand would break given the counters (None: it fits every one)."""
    for (scope, lim), n in zip(scopes, used, strict=True):
        if lim and n + 1 > lim:
            return Broken(scope, lim, "rate_limit_exceeded", "requests per minute")
    plan = caller.plan
    user = f"user:{caller.user_id}"
    if plan.tokens_per_minute and demand.tokens and tokens_used + demand.tokens > plan.tokens_per_minute:
        return Broken(user, plan.tokens_per_minute, "tokens_rate_limit_exceeded", "tokens per minute")
    if demand.concurrent and plan.concurrent_requests and in_flight + 1 > plan.concurrent_requests:
        return Broken(user, plan.concurrent_requests, CONCURRENCY_CODE, "concurrent requests")
    return None


def refusal(broken: Broken, state: RateState, now: float) -> RateLimitError:
    """The 429 for a broken limit, carrying the figures of the refused call."""
    concurrency = broken.code == CONCURRENCY_CODE
    return RateLimitError(
        f"Limit of {broken.limit} {broken.what} reached",
        code=broken.code,
        retry_after=CONCURRENCY_RETRY_SECONDS if concurrency else math.ceil(state.reset_epoch - now),
        details={"limit": str(broken.limit), "scope": broken.scope.split(":")[0]},
        suggestion="Retry after the time in Retry-After, or upgrade your plan",
    ).with_metadata(state.metadata())


def quota_exceeded(caller: Subject, now: datetime, state: RateState) -> QuotaExceededError:
    """The 429 for a used-up monthly quota, carrying the (uncounted) rate-limit figures."""
    quota = caller.plan.monthly_requests
    reset = next_month_start(now)
    return QuotaExceededError(
        f"The monthly quota of {quota} requests of the {caller.plan.name} plan is used up",
        retry_after=math.ceil((reset - now).total_seconds()),
        details={"quota_limit": str(quota), "reset_date": reset.strftime("%Y-%m-%dT%H:%M:%SZ")},
        suggestion="Wait for the reset date or upgrade your plan",
    ).with_metadata(state.metadata())


def budget_of(caller: Subject, state: RateState, tokens_used: int, in_flight: int) -> Budget:
    """The caller's budget from the request figures, the tokens counted and the calls in flight."""
    plan = caller.plan
    tokens_left = max(0, plan.tokens_per_minute - tokens_used) if plan.tokens_per_minute else 0
    return Budget(
        requests_per_minute=state.limit,
        requests_remaining=state.remaining,
        tokens_per_minute=plan.tokens_per_minute,
        tokens_remaining=tokens_left,
        concurrent_requests=plan.concurrent_requests,
        in_flight=in_flight,
        window_reset=state.reset_epoch,
    )
