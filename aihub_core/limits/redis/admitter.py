"""Admission over Redis: the decision `InProcessAdmitter` makes, on counters that every gateway
process sharing the Redis (one server or a Redis Cluster) sees (`AIHUB_REDIS_URL`; docs/limits.md).

Each admission is one script call (`admit.lua`) that checks every limit and only then counts, so
a refusal consumes nothing and N simultaneous calls against a limit L admit exactly min(N, L)
across processes. The refusals are worded by the same code as in one process
(`rules.first_broken`, `rules.refusal`, `rules.quota_exceeded`), from the counters the script
saw. Redis unreachable fails closed: the call gets a 503 `limiter_unavailable`. Every key one
admission touches is its user's (scripts.Keys), so on a Redis Cluster the script runs on the
user's slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import secrets
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aihub_core.limits.admitter import RequestCounter
from aihub_core.limits.redis.connection import REDIS_ERRORS, SharedRedis, connect, limiter_unavailable
from aihub_core.limits.redis.pipeline import ScriptPipeline
from aihub_core.limits.redis.scripts import (
    ADMIT,
    ADMITTED,
    BUDGET,
    FLIGHT_TTL_SECONDS,
    NEEDS_QUOTA,
    REFUSED_BUDGET,
    REFUSED_QUOTA,
    WINDOW_TTL_SECONDS,
    Keys,
    script_argument,
)
from aihub_core.limits.redis.upkeep import Release, Upkeep
from aihub_core.limits.redis.watch import SharedWatchers
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
    ledger_spent,
    period_end,
)
from aihub_core.periods import month_start, next_month_start

DEFAULT_PREFIX = "aihub:"
# A month's quota counter outlives its month by this much (clock skew, late calls).
QUOTA_GRACE_SECONDS = 86400


@dataclass
class SlotGrant(Grant):
    """A grant whose concurrency slot is a member of the user's flight set."""

    slot: str = ""


class RedisAdmitter:
    """Admits or refuses calls on counters in Redis; build with `await RedisAdmitter.start(...)`."""

    def __init__(
        self,
        redis: SharedRedis,
        ledger: RequestCounter,
        clock: Callable[[], float],
        prefix: str = DEFAULT_PREFIX,
        lease: float = 10.0,
        read_limit: int = DEFAULT_READ_LIMIT,
    ) -> None:
        self._redis = redis
        self._read_limit = read_limit
        self._ledger = ledger
        self._clock = clock
        self._keys = Keys(prefix)
        self.instance_id = secrets.token_hex(8)
        self._slots = itertools.count(1)
        client = redis.client
        self._client = client
        self._admit = client.register_script(ADMIT)
        self._budget = client.register_script(BUDGET)
        self._pipeline = ScriptPipeline(client)
        self._upkeep = Upkeep(self._pipeline, client.register_script, self._keys, redis.shard, lease)
        self._watchers = SharedWatchers(redis, self._keys)

    @classmethod
    async def start(
        cls,
        url: str,
        ledger: RequestCounter,
        clock: Callable[[], float],
        *,
        prefix: str = DEFAULT_PREFIX,
        lease: float = 10.0,
        command_timeout: float = 2.0,
        read_limit: int = DEFAULT_READ_LIMIT,
    ) -> RedisAdmitter:
        """Connect (a ConfigError if the URL is bad or Redis unreachable), then start the upkeep.

        `lease`: how long a concurrency slot counts after this process last renewed it, so how long
        the slots of a process that died stay taken."""
        admitter = cls(await connect(url, command_timeout), ledger, clock, prefix, lease, read_limit)
        admitter._upkeep.start()
        admitter._watchers.start()
        return admitter

    @property
    def cluster(self) -> bool:
        """Whether the Redis is a Redis Cluster."""
        return self._redis.cluster

    async def stop(self) -> None:
        """Send the queued releases, free this instance's slots and close."""
        await self._upkeep.stop()
        await self._watchers.stop()
        await self._redis.aclose()

    async def flush(self) -> None:
        """Wait until the releases queued so far are counted in Redis."""
        await self._upkeep.flush()

    async def admit(self, caller: Subject, demand: Demand) -> Grant:
        """Admit a call (see `Admitter.admit`), or raise the same refusals, or a 503 without Redis."""
        if demand.read:
            return await self._admit_read(caller)
        user = caller.user_id
        plan = caller.plan
        quota = plan.monthly_requests if demand.counts_quota else 0
        now = self._clock()
        number, reset = window(now)
        moment = datetime.fromtimestamp(now, UTC)
        month, quota_ttl = "", 0
        if quota:
            month = moment.strftime("%Y-%m")
            # Relative, so that a clock that differs from Redis's cannot expire it at once.
            quota_ttl = math.ceil((next_month_start(moment) - moment).total_seconds()) + QUOTA_GRACE_SECONDS
        scopes = request_scopes(caller)
        slot = f"{self.instance_id}:{next(self._slots)}" if demand.concurrent else ""
        keys = self._keys
        counters = [counter_name(ask.scope, ask.budget.period, moment) for ask in demand.budgets]
        redis_keys = [
            *self._request_keys(number, caller, scopes, both=True),
            keys.tokens(number, user),
            keys.flight(user),
            keys.quota(month, user),
        ]
        budgets: list[dict[str, str | int]] = []
        for ask, counter in zip(demand.budgets, counters, strict=True):
            redis_keys += keys.budget(user, counter)
            ends = period_end(ask.budget.period, moment)
            ttl = math.ceil((ends - moment).total_seconds()) + QUOTA_GRACE_SECONDS
            budgets.append({"limit": str(ask.budget.limit), "cost": str(ask.cost), "start": "", "ttl": ttl})
        named: dict[str, Any] = {
            "user": user,
            "user_limit": scopes[0][1],
            "key_limit": scopes[1][1] if len(scopes) > 1 else 0,
            "tpm": plan.tokens_per_minute,
            "max_flight": plan.concurrent_requests,
            "quota": quota,
            "tokens": demand.tokens,
            "concurrent": demand.concurrent,
            "slot": slot,
            "quota_start": -1,
            "quota_ttl": quota_ttl,
            "window_ttl": WINDOW_TTL_SECONDS,
            "flight_ttl": FLIGHT_TTL_SECONDS,
            "lease_ms": self._upkeep.lease_ms,
            "channel_prefix": keys.channel_prefix,
            "budgets": budgets,
        }
        seen = await self._run_admit(redis_keys, named, user, slot)
        if seen[0] == NEEDS_QUOTA:
            if quota:
                named["quota_start"] = await self._ledger.count_requests(user, month_start(moment))
            for ask, asked in zip(demand.budgets, budgets, strict=True):
                asked["start"] = str(await ledger_spent(self._ledger, ask.scope, ask.budget.period, moment))
            seen = await self._run_admit(redis_keys, named, user, slot)
        status, user_used, key_used, tokens_used, in_flight, _ = (int(x) for x in seen[:6])
        used = [user_used, key_used][: len(scopes)]
        if status == ADMITTED:
            if slot:
                self._upkeep.hold(user, slot)
            state = rate_state(caller, scopes, [n + 1 for n in used], reset)
            spend = tuple((c, ask.cost) for c, ask in zip(counters, demand.budgets, strict=True))
            return SlotGrant(user, demand.tokens, demand.concurrent, state, spend=spend, slot=slot)
        state = rate_state(caller, scopes, used, reset)
        if status == REFUSED_QUOTA:
            raise quota_exceeded(caller, moment, state)
        if status == REFUSED_BUDGET:
            ask = demand.budgets[int(seen[6]) - 1]
            ends = period_end(ask.budget.period, moment)
            figures = BudgetFigures(ask.scope, ask.budget, int(seen[7]), int(seen[8]), ends)
            raise budget_exceeded(figures, moment).with_metadata(state.metadata())
        broken = first_broken(caller, demand, scopes, used, tokens_used, in_flight)
        if broken is None:
            raise AssertionError(f"the admission script refused a demand that fits: {seen}")
        raise refusal(broken, state, now)

    async def _admit_read(self, caller: Subject) -> Grant:
        """A read, by the same script on the read counter alone, with the read limit."""
        now = self._clock()
        number, reset = window(now)
        user, keys, limit = caller.user_id, self._keys, self._read_limit
        counter = keys.reads(number, user, caller.key_id)
        redis_keys = [counter, counter, keys.tokens(number, user), keys.flight(user), keys.quota("", user)]
        named: dict[str, Any] = {
            "user": user,
            "user_limit": limit,
            "key_limit": 0,
            "tpm": 0,
            "max_flight": 0,
            "quota": 0,
            "tokens": 0,
            "concurrent": False,
            "slot": "",
            "quota_start": -1,
            "quota_ttl": 0,
            "window_ttl": WINDOW_TTL_SECONDS,
            "flight_ttl": FLIGHT_TTL_SECONDS,
            "lease_ms": self._upkeep.lease_ms,
            "channel_prefix": keys.channel_prefix,
            "quiet": True,
        }
        seen = [int(x) for x in await self._run_admit(redis_keys, named, user, "")]
        if seen[0] == ADMITTED:
            return Grant(user, 0, False, read_state(limit, seen[1] + 1, reset))
        raise read_refusal(caller, limit, seen[1], reset, now)

    def _request_keys(self, number: int, caller: Subject, scopes: Scopes, both: bool = False) -> list[str]:
        """The request counters of `scopes` (`both`: the user's twice when the key has no limit of
        its own, as the scripts' KEYS want)."""
        user = self._keys.requests(number, caller.user_id)
        if len(scopes) > 1:
            return [user, self._keys.requests(number, caller.user_id, caller.key_id)]
        return [user, user] if both else [user]

    async def _run_admit(self, keys: list[str], named: dict[str, Any], user: str, slot: str) -> list[Any]:
        # The releases of the admission's shard ride along (on one Redis server, all of them);
        # those of other slots of a cluster go in the same pipeline, just before.
        shard = self._redis.shard(keys[0])
        self._upkeep.send_releases(skip=shard)
        batch = self._upkeep.take(shard)
        release_keys, releases = self._upkeep.script_input(batch)
        argument = script_argument({**named, "releases": releases})
        delivered = False
        try:
            seen = await self._pipeline.call(self._admit, [*keys, *release_keys], [argument])
            delivered = True
        except BaseException as err:
            if slot:
                # Cancelled or cut off after sending, the script may have run: give the slot back
                # (removing a member that was never added changes nothing).
                self._upkeep.compensate(user, slot)
            if isinstance(err, REDIS_ERRORS):
                raise limiter_unavailable() from err
            raise
        finally:
            self._upkeep.sent(batch, delivered)
        return list(seen)

    def release(self, grant: Grant, tokens_used: int | None = None, cost_used: int | None = None) -> None:
        """The call ended: queue freeing its slot, settling its tokens (None keeps the estimate) and
        turning its budgets' reservations into the cost charged (None: the worst case held).
        Synchronous, so a cancelled request's `finally` cannot lose it."""
        if grant.released:
            return
        grant.released = True
        slot = grant.slot if isinstance(grant, SlotGrant) else ""
        number, _ = window(self._clock())
        delta = 0 if tokens_used is None else tokens_used - grant.tokens
        # Settled in the current window, as in one process (in_process.Limiter.release).
        spend = tuple((c, held, held if cost_used is None else cost_used) for c, held in grant.spend)
        self._upkeep.release(Release(grant.user_id, slot, number, delta, spend))

    async def peek(self, caller: Subject) -> RateState:
        """The request figures without counting anything."""
        number, reset = window(self._clock())
        scopes = request_scopes(caller)
        try:
            values = await self._pipeline.command("MGET", *self._request_keys(number, caller, scopes))
        except REDIS_ERRORS as err:
            raise limiter_unavailable() from err
        return rate_state(caller, scopes, [int(v or 0) for v in values], reset)

    async def budget(self, caller: Subject) -> Budget:
        """What is left of the caller's per-minute limits now, and the calls in flight."""
        number, reset = window(self._clock())
        scopes = request_scopes(caller)
        user = caller.user_id
        redis_keys = [
            *self._request_keys(number, caller, scopes, both=True),
            self._keys.tokens(number, user),
            self._keys.flight(user),
        ]
        argument = script_argument({"key_counted": len(scopes) > 1})
        try:
            figures = [int(x) for x in await self._pipeline.call(self._budget, redis_keys, [argument])]
        except REDIS_ERRORS as err:
            raise limiter_unavailable() from err
        user_used, key_used, tokens_used, in_flight = figures
        state = rate_state(caller, scopes, [user_used, key_used][: len(scopes)], reset)
        return budget_of(caller, state, tokens_used, in_flight)

    async def quota_used(self, user_id: str) -> int | None:
        """Calls counted against the monthly quota, if the shared counter has started."""
        month = datetime.fromtimestamp(self._clock(), UTC).strftime("%Y-%m")
        try:
            value = await self._pipeline.command("GET", self._keys.quota(month, user_id))
        except REDIS_ERRORS as err:
            raise limiter_unavailable() from err
        return None if value is None else int(value)

    async def budgets(self, caller: Subject, budgets: tuple[BudgetAsk, ...]) -> list[BudgetFigures]:
        """Each budget in its current period, as Redis counts it (the ledger's sum while the
        period's counter has not started)."""
        moment = datetime.fromtimestamp(self._clock(), UTC)
        figures = []
        for ask in budgets:
            held_key, spent_key = self._keys.budget(
                caller.user_id, counter_name(ask.scope, ask.budget.period, moment)
            )
            try:
                held, spent = await self._pipeline.command("MGET", held_key, spent_key)
            except REDIS_ERRORS as err:
                raise limiter_unavailable() from err
            if spent is None:
                spent = await ledger_spent(self._ledger, ask.scope, ask.budget.period, moment)
            ends = period_end(ask.budget.period, moment)
            figures.append(BudgetFigures(ask.scope, ask.budget, int(spent), int(held or 0), ends))
        return figures

    async def notify(self, user_id: str) -> None:
        """Publish on the user's channel, as the scripts do when they count (see `Admitter.notify`)."""
        # Lost, the watchers hear of it at the user's next change.
        with contextlib.suppress(*REDIS_ERRORS):
            await self._client.publish(self._keys.channel(user_id), "alert")

    def watch(self, user_id: str) -> AbstractAsyncContextManager[asyncio.Event]:
        """An event set whenever the user's figures change, in any process."""
        return self._watchers.watch(user_id)
