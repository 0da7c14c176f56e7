"""Crossings from ledger truth on every backend: checkers in two stores (two replicas) checking
at once after a burst of settlements record exactly one event per alert and period."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import datetime, timedelta

from aihub_core.alerts.checker import AlertChecker
from aihub_core.identity import Caller
from aihub_core.limits.plans import Plans
from aihub_core.limits.spend import SpendLimit
from aihub_core.store.base import AlertRecord, Store, StoreOptions, UserRecord
from tests.store.conformance.backends import Backend, opened
from tests.store.conftest import UsageFactory, pico


async def _nothing(user_id: str) -> None:
    return None


async def test_a_burst_checked_in_two_replicas_fires_each_alert_once(
    backend: Backend, usage: UsageFactory, t0: datetime
) -> None:
    now = t0 + timedelta(minutes=1)
    woken: list[str] = []

    async def fired(user_id: str) -> None:
        woken.append(user_id)

    async with (
        opened(backend.store(StoreOptions(keep_lease=False))) as one,
        opened(backend.store(StoreOptions(keep_lease=False))) as two,
    ):
        await one.create_user(UserRecord("usr_a", "a@example.com", "h", "free", t0))
        caller = Caller(
            "usr_a", Plans().get("free"), user_budget=SpendLimit(pico(1.0), "day"), has_alerts=True
        )
        alerts = [
            AlertRecord("alert_spend", "usr_a", "half", "cost_usd", 0.5, "budget", 0, "", t0),
            AlertRecord("alert_calls", "usr_a", "", "requests", 0, "", 10, "day", t0),
            AlertRecord("alert_tokens", "usr_a", "", "tokens", 0, "", 10_000, "month", t0),  # not crossed
        ]
        for alert in alerts:
            await one.create_alert(alert)
        await asyncio.gather(*(one.record_usage(usage(f"req_{i}", "usr_a", cost=0.05)) for i in range(12)))
        checkers = [
            AlertChecker(store, deliver=True, fired=fired, now=lambda: now)
            for store in (one, two)
            for _ in range(3)
        ]
        results = await asyncio.gather(*(c.check(caller) for c in checkers for _ in range(5)))
        recorded = [event for events in results for event in events]
        assert sorted(e.alert_id for e in recorded) == ["alert_calls", "alert_spend"]
        assert woken and set(woken) == {"usr_a"}
        spend = json.loads(next(e.payload for e in recorded if e.alert_id == "alert_spend"))
        assert spend["type"] == "usage_alert" and spend["user"] == {"id": "usr_a", "email": "a@example.com"}
        assert (spend["observed"], spend["limit"], spend["period"]) == (0.6, 0.5, "day")
        assert spend["period_start"] == t0.date().isoformat() and spend["alert"]["of"] == "budget"
        calls = json.loads(next(e.payload for e in recorded if e.alert_id == "alert_calls"))
        assert (calls["observed"], calls["limit"]) == (12, 10)
        listed = {a.id: a.last_fired_at for a in await two.list_alerts("usr_a")}
        assert listed == {"alert_spend": now, "alert_calls": now, "alert_tokens": None}
        # The next day is a new period: the day's alerts may fire again, once.
        tomorrow = now + timedelta(days=1)
        await one.record_usage(replace(usage("req_late", "usr_a", cost=0.6), created_at=tomorrow))
        later = AlertChecker(one, deliver=False, fired=_nothing, now=lambda: tomorrow)
        assert [e.alert_id for e in await later.check(caller)] == ["alert_spend"]
        assert [e.alert_id for e in await later.check(caller)] == []


async def test_only_a_caller_marked_as_holding_alerts_is_checked(
    store: Store, usage: UsageFactory, t0: datetime
) -> None:
    await store.create_user(UserRecord("usr_a", "a@example.com", "h", "free", t0))
    await store.create_alert(AlertRecord("alert_1", "usr_a", "", "requests", 0, "", 1, "day", t0))
    await store.record_usage(usage("req_1", "usr_a"))
    checker = AlertChecker(store, deliver=True, fired=_nothing, now=lambda: t0)
    caller = Caller("usr_a", Plans().get("free"))
    checker.notice(caller)  # a caller cached before its alert: not checked (the next one is)
    await checker.stop()
    assert (await store.list_alerts("usr_a"))[0].last_fired_at is None
    checker.notice(replace(caller, has_alerts=True))
    await checker.stop()
    assert (await store.list_alerts("usr_a"))[0].last_fired_at == t0
