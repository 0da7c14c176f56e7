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
from aihub_core.store.base import AlertEvent, AlertRecord, Store, StoreOptions, UserRecord
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


async def _settled_then_checked(store: Store, settled: datetime, checked: datetime) -> list[AlertEvent]:
    """A settlement noticed at `settled` whose check runs at `checked` (the checker's task)."""
    now = [settled]
    checker = AlertChecker(store, deliver=False, fired=_nothing, now=lambda: now[0])
    checker.notice(Caller("usr_a", Plans().get("free"), has_alerts=True))
    now[0] = checked  # the task has not run yet: it checks at `checked`
    await checker.stop()
    return await store.alert_events("usr_a", settled - timedelta(days=40))


async def test_a_crossing_settled_just_before_midnight_is_recorded_in_its_own_day(
    store: Store, usage: UsageFactory, t0: datetime
) -> None:
    day_end = datetime(2026, 3, 4, tzinfo=t0.tzinfo)
    await store.create_user(UserRecord("usr_a", "a@example.com", "h", "free", t0))
    for alert_id, metric, amount in (
        ("alert_3", "requests", 3),  # crossed by the day's 3 calls
        ("alert_4", "requests", 4),  # crossed only if the next day's call were counted
        ("alert_1", "requests", 1),  # crossed in both days
        ("alert_usd", "cost_usd", pico(1.0)),
        ("alert_tok", "tokens", 45),
        ("alert_tok2", "tokens", 46),
    ):
        await store.create_alert(AlertRecord(alert_id, "usr_a", "", metric, 0, "", amount, "day", t0))
    late = day_end - timedelta(milliseconds=100)
    for i in range(3):
        await store.record_usage(usage(f"req_{i}", "usr_a", cost=0.4, created_at=late))
    await store.record_usage(usage("req_next", "usr_a", cost=0.4, created_at=day_end))
    events = await _settled_then_checked(store, late, day_end + timedelta(milliseconds=100))
    fired = sorted((e.alert_id, e.period_key) for e in events)
    assert fired == [
        ("alert_1", "d2026-03-03"),
        ("alert_1", "d2026-03-04"),
        ("alert_3", "d2026-03-03"),
        ("alert_tok", "d2026-03-03"),
        ("alert_usd", "d2026-03-03"),
    ]
    usd = json.loads(next(e.payload for e in events if e.alert_id == "alert_usd"))
    assert (usd["observed"], usd["period_start"]) == (1.2, "2026-03-03")
    assert next(e.created_at for e in events if e.period_key == "d2026-03-03") == late


async def test_a_crossing_settled_just_before_a_month_ends_is_recorded_in_that_month(
    store: Store, usage: UsageFactory, t0: datetime
) -> None:
    month_end = datetime(2026, 4, 1, tzinfo=t0.tzinfo)
    await store.create_user(UserRecord("usr_a", "a@example.com", "h", "free", t0))
    await store.create_alert(AlertRecord("alert_m", "usr_a", "", "cost_usd", 0, "", pico(1.0), "month", t0))
    late = month_end - timedelta(milliseconds=100)
    await store.record_usage(usage("req_1", "usr_a", cost=1.5, created_at=late))
    events = await _settled_then_checked(store, late, month_end + timedelta(milliseconds=100))
    assert [(e.alert_id, e.period_key) for e in events] == [("alert_m", "m2026-03")]
