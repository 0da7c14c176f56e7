"""The operators' figures: every user's usage per UTC day (the rollup, summed) and the most costly
models of a range of days, billable records only."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from aihub_core.store.base import DailyTotals, ModelTotals, Store, UsageRecord, UsageStatus, UserRecord
from tests.store.conftest import UsageFactory, pending, pico

MIDNIGHT = datetime(2026, 4, 1, tzinfo=UTC)


async def test_gateway_daily_usage_sums_every_user_per_utc_day(
    store: Store, alice: UserRecord, bob: UserRecord, usage: UsageFactory
) -> None:
    await store.record_usage(usage("a1", alice.id, cost=0.1, created_at=MIDNIGHT - timedelta(seconds=1)))
    await store.record_usage(usage("a2", alice.id, cost=0.2, created_at=MIDNIGHT))
    await store.record_usage(usage("b1", bob.id, cost=0.3, created_at=MIDNIGHT + timedelta(hours=23)))
    await store.record_usage(usage("b2", bob.id, cost=9.0, status="refused", created_at=MIDNIGHT))
    await store.reserve_usage(pending(usage, "b3", bob.id, MIDNIGHT))
    await store.record_usage(usage("later", bob.id, cost=1.0, created_at=MIDNIGHT + timedelta(days=1)))

    assert await store.gateway_daily_usage(date(2026, 3, 31), date(2026, 4, 1)) == [
        DailyTotals(date(2026, 3, 31), requests=1, tokens=15, cost_pico_usd=pico(0.1)),
        DailyTotals(date(2026, 4, 1), requests=2, tokens=30, cost_pico_usd=pico(0.2) + pico(0.3)),
    ]
    assert await store.gateway_daily_usage(date(2026, 4, 3), date(2026, 4, 9)) == []


async def test_top_models_rank_the_ranges_models_by_cost(
    store: Store, alice: UserRecord, bob: UserRecord, usage: UsageFactory
) -> None:
    def on(
        model: str, request_id: str, user: UserRecord, cost: float, at: datetime = MIDNIGHT, **kw: UsageStatus
    ) -> UsageRecord:
        return replace(usage(request_id, user.id, cost=cost, created_at=at, **kw), model=model)

    await store.record_usage(on("cheap", "c1", alice, 0.01))
    await store.record_usage(on("cheap", "c2", bob, 0.01))
    await store.record_usage(on("cheap", "c3", bob, 0.01, status="cancelled"))
    await store.record_usage(on("dear", "d1", alice, 0.5, at=MIDNIGHT + timedelta(days=1, hours=23)))
    await store.record_usage(on("refused", "r1", alice, 9.0, status="refused"))
    await store.record_usage(on("before", "x1", bob, 5.0, at=MIDNIGHT - timedelta(microseconds=1)))
    await store.record_usage(on("after", "x2", bob, 5.0, at=MIDNIGHT + timedelta(days=2)))
    await store.reserve_usage(replace(pending(usage, "p1", bob.id, MIDNIGHT), model="pending"))

    top = await store.top_models(date(2026, 4, 1), date(2026, 4, 2), 10)
    assert top == [
        ModelTotals("openrouter", "dear", requests=1, tokens=15, cost_pico_usd=pico(0.5)),
        ModelTotals("openrouter", "cheap", requests=3, tokens=45, cost_pico_usd=3 * pico(0.01)),
    ]
    assert await store.top_models(date(2026, 4, 1), date(2026, 4, 2), 1) == top[:1]
    with pytest.raises(ValueError):
        await store.top_models(date(2026, 4, 1), date(2026, 4, 2), 0)
