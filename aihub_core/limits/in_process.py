"""Limits counted in this process: the default without `AIHUB_REDIS_URL`.

Every check and its commit happen with no await in between, so one event loop never
over-admits: N simultaneous calls against a limit L admit exactly min(N, L). A token bucket such
as aiolimiter's waits for capacity instead of refusing, and keeps no figures to report, so the
counting is ours.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from aihub_core.limits.admitter import RequestCounter
from aihub_core.limits.quota_watch import Watchers
from aihub_core.limits.rules import (
    DEFAULT_READ_LIMIT,
    Budget,
    Demand,
    Grant,
    RateState,
    Scopes,
    Subject,
    budget_of,
    first_broken,
    quota_exceeded,
    rate_state,
    read_refusal,
    read_scope,
    read_state,
    refusal,
    request_scopes,
    window,
)
from aihub_core.limits.spend import (
    BudgetAsk,
    BudgetFigures,
    budget_exceeded,
    counter_name,
    first_over,
    ledger_spent,
    period_end,
)
from aihub_core.periods import month_start


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

    def peek(self, caller: Subject) -> RateState:
        """The request figures without counting anything (for answers that refuse the call)."""
        _, reset = self._roll()
        scopes = request_scopes(caller)
        return rate_state(caller, scopes, self._used(scopes), reset)

    def budget(self, caller: Subject) -> Budget:
        """The caller's remaining per-minute budget and calls in flight."""
        user = f"user:{caller.user_id}"
        return budget_of(caller, self.peek(caller), self._tokens.get(user, 0), self._in_flight.get(user, 0))

    def take(self, caller: Subject, demand: Demand) -> Grant:
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

    def take_read(self, caller: Subject, limit: int) -> Grant:
        """Admit one read against the read limit (0 = none), or raise its RateLimitError."""
        now, reset = self._roll()
        scope = read_scope(caller)
        used = self._requests.get(scope, 0)
        if limit and used + 1 > limit:
            raise read_refusal(caller, limit, used, reset, now)
        self._requests[scope] = used + 1
        return Grant(caller.user_id, 0, False, read_state(limit, used + 1, reset))

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


class InProcessAdmitter:
    """The Admitter of one process: the Limiter, plus the monthly quota counted in memory."""

    def __init__(
        self, ledger: RequestCounter, clock: Callable[[], float], read_limit: int = DEFAULT_READ_LIMIT
    ) -> None:
        self._ledger = ledger
        self._clock = clock
        self._read_limit = read_limit
        self._limiter = Limiter(clock)
        # Calls counted against the monthly quota per user: loaded from the ledger once, then
        # counted here so that concurrent admissions see each other without a database round trip.
        self._month = ""
        self._month_calls: dict[str, int] = {}
        # Per budget counter (`spend.counter_name`): settled spend, from the ledger once per
        # process and period, then counted here; and the worst cases held by calls in flight.
        self._spent: dict[str, int] = {}
        self._reserved: dict[str, int] = {}
        self._watchers = Watchers()

    async def peek(self, caller: Subject) -> RateState:
        """The rate-limit figures for an answer that refuses the call without counting it."""
        return self._limiter.peek(caller)

    async def admit(self, caller: Subject, demand: Demand) -> Grant:
        """Admit a call (see `Admitter.admit`)."""
        if demand.read:
            return self._limiter.take_read(caller, self._read_limit)
        quota = caller.plan.monthly_requests if demand.counts_quota else 0
        now = datetime.fromtimestamp(self._clock(), UTC)
        if quota:
            await self._load_month(caller.user_id, now)
        counters = [counter_name(ask.scope, ask.budget.period, now) for ask in demand.budgets]
        for ask, counter in zip(demand.budgets, counters, strict=True):
            await self._load_spent(ask, counter, now)
        # From here to the return there is no await: check and commit are one step.
        used = self._month_calls.get(caller.user_id, 0)
        if quota and used >= quota:
            raise quota_exceeded(caller, now, self._limiter.peek(caller))
        held = [(self._spent[c], self._reserved.get(c, 0)) for c in counters]
        over = first_over(demand.budgets, held)
        if over is not None:
            ask = demand.budgets[over]
            end = period_end(ask.budget.period, now)
            figures = BudgetFigures(ask.scope, ask.budget, *held[over], end)
            raise budget_exceeded(figures, now).with_metadata(self._limiter.peek(caller).metadata())
        grant = self._limiter.take(caller, demand)
        if quota:
            self._month_calls[caller.user_id] = used + 1
        for ask, counter in zip(demand.budgets, counters, strict=True):
            self._reserved[counter] = self._reserved.get(counter, 0) + ask.cost
        grant.spend = tuple((c, ask.cost) for c, ask in zip(counters, demand.budgets, strict=True))
        self._watchers.wake(caller.user_id)
        return grant

    def release(self, grant: Grant, tokens_used: int | None = None, cost_used: int | None = None) -> None:
        """The call ended: free its slot, settle its tokens (None keeps the estimate) and turn its
        budgets' reservations into the cost charged (None: the worst case held)."""
        if not grant.released:
            for counter, held in grant.spend:
                self._reserved[counter] = max(0, self._reserved.get(counter, 0) - held)
                spent = held if cost_used is None else cost_used
                self._spent[counter] = self._spent.get(counter, 0) + spent
        self._limiter.release(grant, tokens_used)
        self._watchers.wake(grant.user_id)

    async def budgets(self, caller: Subject, budgets: tuple[BudgetAsk, ...]) -> list[BudgetFigures]:
        """Each budget in its current period (see `Admitter.budgets`)."""
        now = datetime.fromtimestamp(self._clock(), UTC)
        figures = []
        for ask in budgets:
            counter = counter_name(ask.scope, ask.budget.period, now)
            await self._load_spent(ask, counter, now)
            end = period_end(ask.budget.period, now)
            figures.append(
                BudgetFigures(
                    ask.scope, ask.budget, self._spent[counter], self._reserved.get(counter, 0), end
                )
            )
        return figures

    async def _load_spent(self, ask: BudgetAsk, counter: str, now: datetime) -> None:
        if counter in self._spent:
            return
        spent = await ledger_spent(self._ledger, ask.scope, ask.budget.period, now)
        # As for the month's count: the first load to finish sets it, and the other keeps it.
        self._spent.setdefault(counter, spent)

    async def budget(self, caller: Subject) -> Budget:
        """What is left of the caller's per-minute limits now."""
        return self._limiter.budget(caller)

    async def notify(self, user_id: str) -> None:
        """Wake the user's watchers (see `Admitter.notify`)."""
        self._watchers.wake(user_id)

    @asynccontextmanager
    async def watch(self, user_id: str) -> AsyncIterator[asyncio.Event]:
        """An event set whenever the user's figures change, for as long as the block runs."""
        event = self._watchers.add(user_id)
        try:
            yield event
        finally:
            self._watchers.remove(user_id, event)

    async def quota_used(self, user_id: str) -> int | None:
        """Calls counted against the quota this month, if this process has counted them."""
        return self._month_calls.get(user_id)

    async def _load_month(self, user_id: str, now: datetime) -> None:
        month = now.strftime("%Y-%m")
        if month != self._month:
            self._month, self._month_calls = month, {}
        if user_id in self._month_calls:
            return
        counted = await self._ledger.count_requests(user_id, month_start(now))
        # Two first calls may both have loaded; the first to finish sets the counter and the
        # other keeps it, so neither admission is lost.
        self._month_calls.setdefault(user_id, counted)
