"""The one interface of the limits: an `Admitter` admits, refuses and releases calls, and tells a
caller's figures. `in_process.InProcessAdmitter` counts in this process; `redis.admitter.RedisAdmitter`
counts in Redis for several processes. `factory.start_admitter` picks one from the settings."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from aihub_core.limits.rules import Budget, Demand, Grant, RateState, Subject
from aihub_core.limits.spend import BudgetAsk, BudgetFigures


class RequestCounter(Protocol):
    """Where the monthly quota's count and the budgets' spend start: the ledger
    (`Store.count_requests`, `Store.key_spent`, `Store.user_spent`)."""

    async def count_requests(self, user_id: str, since: datetime) -> int: ...

    async def key_spent(self, key_id: str, since: datetime) -> int: ...

    async def user_spent(self, user_id: str, since: datetime) -> int: ...


class Admitter(Protocol):
    """One admission decision per call: the monthly quota, requests and tokens per minute, and
    calls in flight, all checked before anything is counted, so a refused call consumes nothing."""

    async def admit(self, caller: Subject, demand: Demand) -> Grant:
        """Admit the demand, or raise the RateLimitError (QuotaExceededError) of the first limit
        it would break; a ServiceUnavailableError when the counters cannot be reached."""
        ...

    def release(self, grant: Grant, tokens_used: int | None = None, cost_used: int | None = None) -> None:
        """The call ended: free its slot and settle its tokens (None keeps the estimate), and
        replace its budgets' reservations by the cost charged (pico-USD; None: the worst case
        held is spent). Synchronous, so a cancelled call's `finally` cannot lose it; releasing
        twice frees once."""
        ...

    async def peek(self, caller: Subject) -> RateState:
        """The X-RateLimit-* figures without counting anything (answers that refuse or replay)."""
        ...

    async def budget(self, caller: Subject) -> Budget:
        """What is left of the caller's per-minute limits now, and the calls in flight."""
        ...

    async def quota_used(self, user_id: str) -> int | None:
        """Calls counted against the monthly quota this month, if the admitter has counted them."""
        ...

    async def budgets(self, caller: Subject, budgets: tuple[BudgetAsk, ...]) -> list[BudgetFigures]:
        """Each budget (asked with cost 0) in its current period: spent (the ledger's sum while not
        counted yet) and reserved by calls in flight."""
        ...

    async def notify(self, user_id: str) -> None:
        """Wake the user's watchers in every process: something they show changed outside the
        counters (a usage alert fired). Never fails: a lost notice is heard at the next change."""
        ...

    def watch(self, user_id: str) -> AbstractAsyncContextManager[asyncio.Event]:
        """An event set whenever the user's figures change, for as long as the block runs."""
        ...
