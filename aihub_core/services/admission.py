"""One admission decision per request: monthly quota, requests and tokens per minute, and
concurrency, all checked before anything is counted. `Admission` counts in this process;
`shared_admission.SharedAdmission` is the same decision over Redis, for several processes."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Protocol

from aihub_core.errors import QuotaExceededError
from aihub_core.identity import Caller
from aihub_core.limits import Budget, Demand, Grant, Limiter, RateState
from aihub_core.periods import month_start, next_month_start
from aihub_core.services.quota_watch import Watchers


class RequestCounter(Protocol):
    """Where the monthly quota's count starts: the ledger (`Store.count_requests`)."""

    async def count_requests(self, user_id: str, since: datetime) -> int: ...


def quota_exceeded(caller: Caller, now: datetime, state: RateState) -> QuotaExceededError:
    """The 429 for a used-up monthly quota, carrying the (uncounted) rate-limit figures."""
    quota = caller.plan.monthly_requests
    reset = next_month_start(now)
    return QuotaExceededError(
        f"The monthly quota of {quota} requests of the {caller.plan.name} plan is used up",
        retry_after=math.ceil((reset - now).total_seconds()),
        details={"quota_limit": str(quota), "reset_date": reset.strftime("%Y-%m-%dT%H:%M:%SZ")},
        suggestion="Wait for the reset date or upgrade your plan",
    ).with_metadata(state.metadata())


class Admission:
    """Admits or refuses key-authenticated calls; a refused call consumes nothing."""

    def __init__(self, store: RequestCounter, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock
        self._limiter = Limiter(clock)
        # Chat calls admitted this month per user: loaded from the ledger once, then counted here
        # so that concurrent admissions see each other without a database round trip.
        self._month = ""
        self._month_calls: dict[str, int] = {}
        self._watchers = Watchers()

    async def peek(self, caller: Caller) -> RateState:
        """The rate-limit figures for an answer that refuses the call without counting it."""
        return self._limiter.peek(caller)

    async def admit(self, caller: Caller, permission: str, tokens: int = 0) -> Grant:
        """Admit a call. Chat calls (permission `chat`) also take a concurrency slot, their token
        estimate and one request of the monthly quota."""
        chat = permission == "chat"
        quota = caller.plan.monthly_requests if chat else 0
        now = datetime.fromtimestamp(self._clock(), UTC)
        if quota:
            await self._load_month(caller.user_id, now)
        # From here to the return there is no await: check and commit are one step.
        used = self._month_calls.get(caller.user_id, 0)
        if quota and used >= quota:
            raise quota_exceeded(caller, now, self._limiter.peek(caller))
        grant = self._limiter.take(caller, Demand(tokens=tokens, concurrent=chat))
        if quota:
            self._month_calls[caller.user_id] = used + 1
        self._watchers.wake(caller.user_id)
        return grant

    def release(self, grant: Grant, tokens_used: int | None = None) -> None:
        """The call ended: free its slot and settle its tokens (None keeps the estimate)."""
        self._limiter.release(grant, tokens_used)
        self._watchers.wake(grant.user_id)

    async def budget(self, caller: Caller) -> Budget:
        """What is left of the caller's per-minute limits now."""
        return self._limiter.budget(caller)

    @asynccontextmanager
    async def watch(self, user_id: str) -> AsyncIterator[asyncio.Event]:
        """An event set whenever the user's figures change, for as long as the block runs."""
        event = self._watchers.add(user_id)
        try:
            yield event
        finally:
            self._watchers.remove(user_id, event)

    async def quota_used(self, user_id: str) -> int | None:
        """Chat calls admitted this month, if this process has counted them."""
        return self._month_calls.get(user_id)

    async def _load_month(self, user_id: str, now: datetime) -> None:
        month = now.strftime("%Y-%m")
        if month != self._month:
            self._month, self._month_calls = month, {}
        if user_id in self._month_calls:
            return
        counted = await self._store.count_requests(user_id, month_start(now))
        # Two first calls may both have loaded; the first to finish sets the counter and the
        # other keeps it, so neither admission is lost.
        self._month_calls.setdefault(user_id, counted)
