"""Requests-per-minute limits per key and per user, in one process.

Fixed one-minute windows aligned to the clock, so `X-RateLimit-Reset` is the next minute
boundary. Check and count happen with no await in between, so one event loop never
over-admits. (The admission issue replaces this with the full limiter: tokens/minute,
concurrency and Redis for several replicas.)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from aihub_core.errors import RateLimitError
from aihub_core.identity import Caller

WINDOW_SECONDS = 60


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


class MinuteLimiter:
    """Counts requests per key and per user in the current minute and refuses past the limit."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._window = -1
        self._counts: dict[str, int] = {}

    def admit(self, caller: Caller) -> RateState:
        """Count one request, or raise RateLimitError (with the state) if a limit is reached."""
        return self._check(caller, count=True)

    def peek(self, caller: Caller) -> RateState:
        """The current state without counting a request (for answers that refuse it anyway)."""
        return self._check(caller, count=False)

    def _check(self, caller: Caller, *, count: bool) -> RateState:
        now = self._clock()
        window = int(now // WINDOW_SECONDS)
        if window != self._window:
            self._window, self._counts = window, {}
        reset = (window + 1) * WINDOW_SECONDS
        checks = [(f"user:{caller.user_id}", caller.plan.requests_per_minute)]
        if caller.key_id and caller.key_requests_per_minute:
            checks.append((f"key:{caller.key_id}", caller.key_requests_per_minute))
        limit = effective_limit(caller.plan.requests_per_minute, caller.key_requests_per_minute)
        for scope, scope_limit in checks:
            if count and scope_limit and self._counts.get(scope, 0) >= scope_limit:
                state = RateState(limit, 0, reset)
                raise RateLimitError(
                    f"Rate limit of {scope_limit} requests per minute reached",
                    retry_after=math.ceil(reset - now),
                    details={"limit": str(scope_limit), "scope": scope.split(":")[0]},
                    suggestion="Wait until the time in X-RateLimit-Reset, or upgrade your plan",
                ).with_metadata(state.metadata())
        if count:
            for scope, _ in checks:
                self._counts[scope] = self._counts.get(scope, 0) + 1
        remaining = [lim - self._counts.get(s, 0) for s, lim in checks if lim]
        return RateState(limit, max(0, min(remaining)) if remaining else 0, reset)
