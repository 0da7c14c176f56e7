"""One admission decision per request: (for chat) the monthly quota, then the rate limit."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime

from aihub_core.errors import QuotaExceededError
from aihub_core.identity import Caller
from aihub_core.limits import MinuteLimiter, RateState
from aihub_core.periods import month_start, next_month_start
from aihub_core.store.base import Store


class Admission:
    """Admits or refuses a key-authenticated call; a refused call costs nothing."""

    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock
        self._limiter = MinuteLimiter(clock)

    def peek(self, caller: Caller) -> RateState:
        """The rate-limit figures for an answer that refuses the call without counting it."""
        return self._limiter.peek(caller)

    async def admit(self, caller: Caller, permission: str) -> RateState:
        """Chat calls are checked against the monthly quota first; then every call is counted
        against the rate limits. A refused call is not counted."""
        quota = caller.plan.monthly_requests
        if permission == "chat" and quota:
            now = datetime.fromtimestamp(self._clock(), UTC)
            used = await self._store.count_requests(caller.user_id, month_start(now))
            if used >= quota:
                reset = next_month_start(now)
                raise QuotaExceededError(
                    f"The monthly quota of {quota} requests of the {caller.plan.name} plan is used up",
                    retry_after=math.ceil((reset - now).total_seconds()),
                    details={"quota_limit": str(quota), "reset_date": reset.strftime("%Y-%m-%dT%H:%M:%SZ")},
                    suggestion="Wait for the reset date or upgrade your plan",
                ).with_metadata(self._limiter.peek(caller).metadata())
        return self._limiter.admit(caller)
