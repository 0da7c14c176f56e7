"""The usage ledger: idempotent by request id, grouped by UTC day, exact costs and sums."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from aihub_core.pricing import MAX_PICO_USD
from aihub_core.store.base import DailyTotals, Store, UserRecord
from tests.store.conformance.backends import Backend
from tests.store.conftest import UsageFactory, pending, pico

MIDNIGHT = datetime(2026, 4, 1, tzinfo=UTC)


async def test_recording_twice_keeps_the_first(store: Store, alice: UserRecord, usage: UsageFactory) -> None:
    await store.record_usage(usage("req_1", alice.id, cost=0.25))
    await store.record_usage(usage("req_1", alice.id, cost=7.0, status="error", prompt_tokens=999))
    assert await store.daily_usage(alice.id, date(2026, 3, 31), date(2026, 3, 31)) == [
        DailyTotals(date(2026, 3, 31), requests=1, tokens=15, cost_pico_usd=pico(0.25))
    ]


async def test_daily_usage_groups_by_utc_day_with_exact_sums(
    store: Store, alice: UserRecord, bob: UserRecord, usage: UsageFactory
) -> None:
    tokyo = timezone(timedelta(hours=9))
    march = [0.1] * 10
    april = [0.000035, 0.00035, 0.0035]
    for i, cost in enumerate(march):
        await store.record_usage(
            usage(f"m{i}", alice.id, cost=cost, created_at=MIDNIGHT - timedelta(seconds=i + 1))
        )
    for i, cost in enumerate(april):
        # Tokyo local time is already April 1 09:00 at UTC midnight: grouping must use UTC.
        await store.record_usage(
            usage(
                f"a{i}", alice.id, cost=cost, created_at=(MIDNIGHT + timedelta(seconds=i)).astimezone(tokyo)
            )
        )
    await store.record_usage(usage("refused", alice.id, cost=5.0, status="refused", created_at=MIDNIGHT))
    await store.record_usage(usage("bobs", bob.id, cost=5.0, created_at=MIDNIGHT))
    await store.record_usage(usage("cancel", alice.id, cost=0.01, status="cancelled", created_at=MIDNIGHT))
    april.append(0.01)

    days = await store.daily_usage(alice.id, date(2026, 3, 31), date(2026, 4, 1))
    assert [(d.day, d.requests, d.tokens) for d in days] == [
        (date(2026, 3, 31), 10, 150),
        (date(2026, 4, 1), 4, 60),
    ]
    assert days[0].cost_pico_usd == sum(pico(c) for c in march)
    assert days[1].cost_pico_usd == sum(pico(c) for c in april)
    assert days[0].cost_usd == 1.0  # adding 0.1 ten times, in any order, gives 0.9999999999999999
    assert days[1].cost_usd == 0.013885  # the exact sum, converted once


async def test_daily_usage_bounds_are_inclusive_days(
    store: Store, alice: UserRecord, usage: UsageFactory
) -> None:
    for day in range(1, 6):
        start = datetime(2026, 4, day, tzinfo=UTC)
        await store.record_usage(usage(f"first-{day}", alice.id, created_at=start))
        await store.record_usage(
            usage(f"last-{day}", alice.id, created_at=start + timedelta(days=1, microseconds=-1))
        )
    days = await store.daily_usage(alice.id, date(2026, 4, 2), date(2026, 4, 4))
    assert [(d.day.day, d.requests) for d in days] == [(2, 2), (3, 2), (4, 2)]
    assert await store.daily_usage(alice.id, date(2026, 4, 4), date(2026, 4, 2)) == []
    assert await store.daily_usage(alice.id, date(2026, 5, 1), date(2026, 5, 31)) == []


async def test_count_requests_counts_billable_since_a_moment(
    store: Store, alice: UserRecord, bob: UserRecord, usage: UsageFactory
) -> None:
    since = MIDNIGHT
    await store.record_usage(usage("before", alice.id, created_at=since - timedelta(microseconds=1)))
    await store.record_usage(usage("at", alice.id, created_at=since))
    await store.record_usage(usage("error", alice.id, status="error", created_at=since + timedelta(days=3)))
    await store.record_usage(
        usage("cancelled", alice.id, status="cancelled", created_at=since + timedelta(days=3))
    )
    await store.record_usage(
        usage("refused", alice.id, status="refused", created_at=since + timedelta(days=3))
    )
    await store.record_usage(usage("bob", bob.id, created_at=since + timedelta(days=3)))
    assert await store.count_requests(alice.id, since) == 3
    assert await store.count_requests(alice.id, since.astimezone(timezone(timedelta(hours=-5)))) == 3
    assert await store.count_requests("usr_nobody", since) == 0


async def test_pending_and_refused_calls_stay_out_of_the_reports(
    store: Store, alice: UserRecord, usage: UsageFactory
) -> None:
    await store.reserve_usage(pending(usage, "in-flight", alice.id, MIDNIGHT))
    await store.record_usage(usage("refused", alice.id, status="refused", created_at=MIDNIGHT))
    await store.record_usage(usage("error", alice.id, status="error", cost=0.5, created_at=MIDNIGHT))
    assert await store.daily_usage(alice.id, MIDNIGHT.date(), MIDNIGHT.date()) == [
        DailyTotals(MIDNIGHT.date(), requests=1, tokens=15, cost_pico_usd=pico(0.5))
    ]
    assert await store.count_requests(alice.id, MIDNIGHT) == 2  # the pending one and the error


async def test_costs_are_whole_pico_usd_kept_and_summed_exactly(
    store: Store, backend: Backend, alice: UserRecord, usage: UsageFactory
) -> None:
    """An int64 of pico-USD goes in and comes out to the unit; what is not one is refused."""
    huge = MAX_PICO_USD // 2 - 10**9  # two of these and a little more still sum within 64 bits
    await store.record_usage(replace(usage("req_1", alice.id), cost_pico_usd=huge))
    await store.record_usage(replace(usage("req_2", alice.id), cost_pico_usd=huge + 1))
    await store.record_usage(replace(usage("req_3", alice.id), cost_pico_usd=50_000_000))
    rows = {r.request_id: r.cost_pico_usd for r in await backend.ledger()}
    assert rows == {"req_1": huge, "req_2": huge + 1, "req_3": 50_000_000}
    [day] = await store.daily_usage(alice.id, date(2026, 3, 31), date(2026, 3, 31))
    assert day.cost_pico_usd == 2 * huge + 1 + 50_000_000
    for bad in (-1, MAX_PICO_USD + 1, 0.5, True):
        with pytest.raises(ValueError, match="pico-USD"):
            await store.record_usage(replace(usage("req_bad", alice.id), cost_pico_usd=bad))  # type: ignore[arg-type]
    assert len(await backend.ledger()) == 3
