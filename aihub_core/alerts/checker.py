"""Crossings, from ledger truth: after a call of a user who holds alerts has settled, each alert
not fired yet this period compares the ledger's figure with its limit, and a crossing is recorded
once per alert and period (the store's unique (alert, period), so across replicas too).

The check runs in a task of its own, after the call has released its limits: it never delays an
answer, and checks of one user coalesce (a burst of settlements makes one check, and one more if
any settled while it ran). A caller without alerts costs one attribute test (`Caller.has_alerts`,
kept in the auth cache and moved by the auth generation like every per-user setting).

A check measures the period of its own moment, and also the period of the earliest settlement it
covers when that one ended since (a settlement at 23:59:59.9 checked at 00:00:00.1): that period
is measured up to its end, and a crossing in it is recorded under its key, at the settlement's
time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from aihub_core.alerts.metrics import AlertMetrics
from aihub_core.alerts.rules import Measure, fired_in, measure, shown
from aihub_core.identity import Caller
from aihub_core.store.base import AlertEvent, AlertRecord, Store

log = logging.getLogger("aihub.alerts")


def new_event_id() -> str:
    """An event id: `evt_` and 24 hex digits (the webhook receiver's dedupe key)."""
    return "evt_" + secrets.token_hex(12)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def observed(store: Store, user_id: str, metric: str, start: datetime, now: datetime) -> int:
    """The ledger's figure for the user since `start`: settled spend (pico-USD, as the budgets
    count it), requests counted against the quota (calls in flight included, as the quota counts
    them), or the tokens of billable calls (the daily rollup)."""
    if metric == "cost_usd":
        return await store.user_spent(user_id, start)
    if metric == "requests":
        return await store.count_requests(user_id, start)
    return sum(day.tokens for day in await store.daily_usage(user_id, start.date(), now.date()))


async def observed_in(store: Store, user_id: str, metric: str, start: datetime, end: datetime) -> int:
    """As `observed`, bounded to a period that ended at `end`: its own figure, not the next's."""
    if metric == "cost_usd":
        return await store.user_spent(user_id, start) - await store.user_spent(user_id, end)
    if metric == "requests":
        return await store.count_requests(user_id, start) - await store.count_requests(user_id, end)
    last = (end - timedelta(days=1)).date()
    return sum(day.tokens for day in await store.daily_usage(user_id, start.date(), last))


def alert_json(alert: AlertRecord) -> dict[str, object]:
    """The alert's settings as the API and the webhook show them."""
    return {
        "id": alert.id,
        "name": alert.name,
        "metric": alert.metric,
        "threshold": alert.threshold,
        "of": alert.of,
        "value": shown(alert.metric, alert.amount) if not alert.of else 0,
    }


def event_payload(
    event_id: str, alert: AlertRecord, user: dict[str, str], seen: Measure, figure: int, now: datetime
) -> str:
    """The webhook's JSON body of a crossing (also what WatchQuota reads back)."""
    body = {
        "id": event_id,
        "type": "usage_alert",
        "created_at": _iso(now),
        "user": user,
        "alert": {**alert_json(alert), "period": seen.period},
        "metric": alert.metric,
        "observed": shown(alert.metric, figure),
        "limit": shown(alert.metric, seen.limit),
        "period": seen.period,
        "period_start": seen.start.date().isoformat(),
        "resets_at": _iso(seen.ends),
    }
    return json.dumps(body, separators=(",", ":"))


class AlertChecker:
    """Checks a user's alerts after their calls settle, and records the crossings."""

    def __init__(
        self,
        store: Store,
        *,
        deliver: bool,
        fired: Callable[[str], Awaitable[None]],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        metrics: AlertMetrics | None = None,
    ) -> None:
        """`deliver`: whether a webhook is configured (else crossings are recorded, not queued);
        `fired(user_id)` is awaited after a check recorded crossings (wakes watchers, delivery);
        `metrics` counts the crossings."""
        self._store = store
        self._metrics = metrics or AlertMetrics(store)
        self._deliver = deliver
        self._fired = fired
        self._now = now
        self._running: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        # Per user, when the earliest settlement not checked yet was noticed.
        self._since: dict[str, datetime] = {}

    def notice(self, caller: Caller) -> None:
        """A call of the caller settled: check its alerts soon, unless it has none."""
        if not caller.has_alerts:
            return
        user_id = caller.user_id
        self._since.setdefault(user_id, self._now())
        if user_id in self._running:
            self._again.add(user_id)
            return
        task = asyncio.create_task(self._checks(caller), name=f"aihub-alerts-{user_id}")
        self._running[user_id] = task

    async def _checks(self, caller: Caller) -> None:
        user_id = caller.user_id
        try:
            while True:
                self._again.discard(user_id)
                since = self._since.pop(user_id, None)
                try:
                    await self.check(caller, since)
                except Exception:
                    log.exception("checking the usage alerts of %s failed", user_id)
                if user_id not in self._again:
                    return
        finally:
            self._running.pop(user_id, None)

    async def check(self, caller: Caller, settled_at: datetime | None = None) -> list[AlertEvent]:
        """Record each alert of the caller's that its usage crossed this period (and that had not
        fired in it yet), and in the period of `settled_at` (the earliest settlement checked) if
        that one has ended since; the events this call recorded."""
        now = self._now()
        figures: dict[tuple[str, datetime], int] = {}
        recorded: list[AlertEvent] = []
        user: dict[str, str] | None = None
        for alert in await self._store.list_alerts(caller.user_id):
            seen = measure(alert, caller, now)
            moments = [now]
            if settled_at is not None and settled_at < seen.start:
                moments.insert(0, settled_at)  # its period ended since: check it first
            for at in moments:
                past = at is not now
                seen = measure(alert, caller, at)
                if seen.limit <= 0 or fired_in(alert, seen):
                    continue
                key = (alert.metric, seen.start)
                if key not in figures:
                    figures[key] = await (
                        observed_in(self._store, caller.user_id, alert.metric, seen.start, seen.ends)
                        if past
                        else observed(self._store, caller.user_id, alert.metric, seen.start, now)
                    )
                if figures[key] < seen.limit:
                    continue
                if user is None:
                    record = await self._store.get_user(caller.user_id)
                    user = {"id": caller.user_id, "email": record.email if record else ""}
                event_id = new_event_id()
                payload = event_payload(event_id, alert, user, seen, figures[key], at)
                event = AlertEvent(
                    event_id, alert.id, caller.user_id, seen.key, payload, at, deliver=self._deliver
                )
                if await self._store.fire_alert(event):
                    log.info(
                        "usage alert %s of %s fired (%s %s)", alert.id, caller.user_id, seen.key, event_id
                    )
                    recorded.append(event)
        if recorded:
            self._metrics.crossed(len(recorded))
            await self._fired(caller.user_id)
        return recorded

    def check_soon(self, caller: Caller) -> None:
        """Check now, as if a call had settled (a new alert may be crossed already)."""
        self.notice(replace(caller, has_alerts=True))

    async def stop(self) -> None:
        """Let the checks under way finish (a crossing they see is recorded), then return."""
        while self._running:
            with contextlib.suppress(Exception):
                await asyncio.gather(*list(self._running.values()), return_exceptions=True)
