"""Limits: requests and tokens per one-minute window, and calls in flight.

Windows are fixed minutes aligned to the clock, so `X-RateLimit-Reset` is the next minute
boundary. A demand is checked against every limit before any counter moves, so a refusal consumes
nothing; `first_broken` and `refusal` decide and word that for both counters: `Limiter` here, in
one process, and the Redis scripts of `services/shared_admission.py`, shared by several
(`docs/limits.md`). In `Limiter` every check and its commit happen with no await in between, so
one event loop never over-admits: N simultaneous calls against a limit L admit exactly min(N, L).
A token bucket such as aiolimiter's waits for capacity instead of refusing, and keeps no figures
to report, so the counting is ours.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aihub_core.errors import RateLimitError
from aihub_core.identity import Caller

WINDOW_SECONDS = 60
# A refused concurrent call is told to come back this soon: slots free up as calls end.
CONCURRENCY_RETRY_SECONDS = 1
CONCURRENCY_CODE = "concurrency_limit_exceeded"

# (scope, limit) per request counter: the user's plan, and the key's own limit if it has one.
Scopes = list[tuple[str, int]]


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


def effective_limit(plan_limit: int, key_limit: int | None) -> int:
    """The lower of plan and key limits, where 0 or None means no limit."""
    limits = [x for x in (plan_limit, key_limit or 0) if x > 0]
    return min(limits) if limits else 0


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


@dataclass(frozen=True)
class Demand:
    """What one call asks of the limits."""

    tokens: int = 0
    concurrent: bool = False


@dataclass
class Grant:
    """An admitted call: what it holds until `Limiter.release`."""

    user_id: str
    tokens: int
    concurrent: bool
    state: RateState
    released: bool = field(default=False)


@dataclass(frozen=True)
class Broken:
    """The first limit a demand would break."""

    scope: str
    limit: int
    code: str
    what: str


def window(now: float) -> tuple[int, int]:
    """The number of the minute window `now` falls in, and when it ends (epoch seconds)."""
    number = int(now // WINDOW_SECONDS)
    return number, (number + 1) * WINDOW_SECONDS


def request_scopes(caller: Caller) -> Scopes:
    """The request counters a call of `caller` moves, with their limits (0 = none)."""
    scopes = [(f"user:{caller.user_id}", caller.plan.requests_per_minute)]
    if caller.key_id and caller.key_requests_per_minute:
        scopes.append((f"key:{caller.key_id}", caller.key_requests_per_minute))
    return scopes


def rate_state(caller: Caller, scopes: Scopes, used: Sequence[int], reset: int) -> RateState:
    """The X-RateLimit-* figures, given the requests counted in each scope."""
    limit = effective_limit(caller.plan.requests_per_minute, caller.key_requests_per_minute)
    remaining = [lim - n for (_, lim), n in zip(scopes, used, strict=True) if lim]
    return RateState(limit, max(0, min(remaining)) if remaining else 0, reset)


def first_broken(
    caller: Caller, demand: Demand, scopes: Scopes, used: Sequence[int], tokens_used: int, in_flight: int
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


def budget_of(caller: Caller, state: RateState, tokens_used: int, in_flight: int) -> Budget:
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


class Limiter:
    """Counts requests and tokens per key and user in the current minute, and calls in flight."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._window = -1
        self._requests: dict[str, int] = {}
        self._tokens: dict[str, int] = {}
        self._in_flight: dict[str, int] = {}

    def _roll(self) -> tuple[float, int]:
        now = self._clock()
        number, reset = window(now)
        if number != self._window:
            self._window, self._requests, self._tokens = number, {}, {}
        return now, reset

    def _used(self, scopes: Scopes) -> list[int]:
        return [self._requests.get(scope, 0) for scope, _ in scopes]

    def peek(self, caller: Caller) -> RateState:
        """The request figures without counting anything (for answers that refuse the call)."""
        _, reset = self._roll()
        scopes = request_scopes(caller)
        return rate_state(caller, scopes, self._used(scopes), reset)

    def budget(self, caller: Caller) -> Budget:
        """The caller's remaining per-minute budget and calls in flight."""
        user = f"user:{caller.user_id}"
        return budget_of(caller, self.peek(caller), self._tokens.get(user, 0), self._in_flight.get(user, 0))

    def take(self, caller: Caller, demand: Demand) -> Grant:
        """Admit one call or raise RateLimitError naming the first limit it would break."""
        now, reset = self._roll()
        user = f"user:{caller.user_id}"
        scopes = request_scopes(caller)
        used = self._used(scopes)
        tokens = self._tokens.get(user, 0)
        in_flight = self._in_flight.get(user, 0)
        broken = first_broken(caller, demand, scopes, used, tokens, in_flight)
        if broken is not None:
            raise refusal(broken, rate_state(caller, scopes, used, reset), now)
        for scope, _ in scopes:
            self._requests[scope] = self._requests.get(scope, 0) + 1
        self._tokens[user] = tokens + demand.tokens
        if demand.concurrent:
            self._in_flight[user] = in_flight + 1
        state = rate_state(caller, scopes, [n + 1 for n in used], reset)
        return Grant(caller.user_id, demand.tokens, demand.concurrent, state)

    def release(self, grant: Grant, tokens_used: int | None = None) -> None:
        """End a call: free its concurrency slot and replace its token estimate by what it used.

        `tokens_used=None` keeps the estimate (a failed call whose real count is unknown).
        """
        if grant.released:
            return
        grant.released = True
        user = f"user:{grant.user_id}"
        if grant.concurrent:
            left = self._in_flight.get(user, 0) - 1
            if left > 0:
                self._in_flight[user] = left
            else:
                self._in_flight.pop(user, None)
        if tokens_used is not None:
            self._roll()
            # Settled in the current window: if the minute rolled over, the correction lands in
            # the new one, which errs towards admitting no more than was really used.
            self._tokens[user] = max(0, self._tokens.get(user, 0) + tokens_used - grant.tokens)

    def in_flight(self, user_id: str) -> int:
        """Calls of the user holding a concurrency slot now."""
        return self._in_flight.get(f"user:{user_id}", 0)
