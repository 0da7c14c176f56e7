"""In-process limits: requests and tokens per one-minute window, and calls in flight.

Windows are fixed minutes aligned to the clock, so `X-RateLimit-Reset` is the next minute
boundary. Every check of a demand and its commit happen with no await in between, so one
event loop never over-admits: N simultaneous calls against a limit L admit exactly min(N, L).
A demand is checked against every limit before any counter moves, so a refusal consumes
nothing. A token bucket such as aiolimiter's waits for capacity instead of refusing, and keeps no
figures to report, so the counting is ours. (Several replicas share these counters through
Redis in a later issue.)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from aihub_core.errors import RateLimitError
from aihub_core.identity import Caller

WINDOW_SECONDS = 60
# A refused concurrent call is told to come back this soon: slots free up as calls end.
CONCURRENCY_RETRY_SECONDS = 1


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
class _Check:
    scope: str
    limit: int
    used: int
    wants: int
    code: str
    what: str


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
        window = int(now // WINDOW_SECONDS)
        if window != self._window:
            self._window, self._requests, self._tokens = window, {}, {}
        return now, (window + 1) * WINDOW_SECONDS

    def _request_scopes(self, caller: Caller) -> list[tuple[str, int]]:
        scopes = [(f"user:{caller.user_id}", caller.plan.requests_per_minute)]
        if caller.key_id and caller.key_requests_per_minute:
            scopes.append((f"key:{caller.key_id}", caller.key_requests_per_minute))
        return scopes

    def _state(self, caller: Caller, reset: int) -> RateState:
        scopes = self._request_scopes(caller)
        limit = effective_limit(caller.plan.requests_per_minute, caller.key_requests_per_minute)
        remaining = [lim - self._requests.get(scope, 0) for scope, lim in scopes if lim]
        return RateState(limit, max(0, min(remaining)) if remaining else 0, reset)

    def peek(self, caller: Caller) -> RateState:
        """The request figures without counting anything (for answers that refuse the call)."""
        _, reset = self._roll()
        return self._state(caller, reset)

    def budget(self, caller: Caller) -> Budget:
        """The caller's remaining per-minute budget and calls in flight."""
        _, reset = self._roll()
        state = self._state(caller, reset)
        plan = caller.plan
        user = f"user:{caller.user_id}"
        tokens_left = (
            max(0, plan.tokens_per_minute - self._tokens.get(user, 0)) if plan.tokens_per_minute else 0
        )
        return Budget(
            requests_per_minute=state.limit,
            requests_remaining=state.remaining,
            tokens_per_minute=plan.tokens_per_minute,
            tokens_remaining=tokens_left,
            concurrent_requests=plan.concurrent_requests,
            in_flight=self._in_flight.get(user, 0),
            window_reset=reset,
        )

    def take(self, caller: Caller, demand: Demand) -> Grant:
        """Admit one call or raise RateLimitError naming the first limit it would break."""
        now, reset = self._roll()
        user = f"user:{caller.user_id}"
        checks = [
            _Check(scope, lim, self._requests.get(scope, 0), 1, "rate_limit_exceeded", "requests per minute")
            for scope, lim in self._request_scopes(caller)
        ]
        plan = caller.plan
        checks.append(
            _Check(
                user,
                plan.tokens_per_minute,
                self._tokens.get(user, 0),
                demand.tokens,
                "tokens_rate_limit_exceeded",
                "tokens per minute",
            )
        )
        if demand.concurrent:
            checks.append(
                _Check(
                    user,
                    plan.concurrent_requests,
                    self._in_flight.get(user, 0),
                    1,
                    "concurrency_limit_exceeded",
                    "concurrent requests",
                )
            )
        for check in checks:
            if check.limit and check.wants and check.used + check.wants > check.limit:
                concurrency = check.code == "concurrency_limit_exceeded"
                raise RateLimitError(
                    f"Limit of {check.limit} {check.what} reached",
                    code=check.code,
                    retry_after=CONCURRENCY_RETRY_SECONDS if concurrency else math.ceil(reset - now),
                    details={"limit": str(check.limit), "scope": check.scope.split(":")[0]},
                    suggestion="Retry after the time in Retry-After, or upgrade your plan",
                ).with_metadata(self._state(caller, reset).metadata())
        for scope, _ in self._request_scopes(caller):
            self._requests[scope] = self._requests.get(scope, 0) + 1
        self._tokens[user] = self._tokens.get(user, 0) + demand.tokens
        if demand.concurrent:
            self._in_flight[user] = self._in_flight.get(user, 0) + 1
        return Grant(caller.user_id, demand.tokens, demand.concurrent, self._state(caller, reset))

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
