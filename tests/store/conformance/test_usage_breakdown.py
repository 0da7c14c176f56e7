"""A user's usage over a range of days by model and by key: the records the daily rollup counts,
grouped, so that each list adds up to the rollup's totals exactly."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from aihub_core.store.base import GroupTotals, Store, UsageRecord, UsageStatus, UserRecord
from tests.store.conftest import KeyFactory, UsageFactory, pending, pico

MIDNIGHT = datetime(2026, 4, 1, tzinfo=UTC)
FIRST, LAST = date(2026, 4, 1), date(2026, 4, 2)


async def test_the_breakdown_groups_the_billable_records_and_adds_up_to_the_rollup(
    store: Store, alice: UserRecord, bob: UserRecord, usage: UsageFactory, api_key: KeyFactory
) -> None:
    await store.create_api_key(api_key("key_a", alice.id))
    await store.create_api_key(api_key("key_b", alice.id))

    def call(
        request_id: str,
        model: str,
        key_id: str | None,
        cost: float,
        at: datetime = MIDNIGHT,
        status: UsageStatus = "ok",
        user: UserRecord = alice,
    ) -> UsageRecord:
        # As many completion tokens as the request id has characters: r22 has 3.
        made = usage(
            request_id, user.id, cost=cost, status=status, created_at=at, completion_tokens=len(request_id)
        )
        return replace(made, model=model, key_id=key_id)

    await store.record_usage(call("r1", "dear", "key_a", 0.25))
    await store.record_usage(
        call("r22", "cheap", "key_a", 0.1, at=MIDNIGHT + timedelta(hours=23, minutes=59))
    )
    await store.record_usage(
        call("r333", "dear", "key_b", 0.05, at=MIDNIGHT + timedelta(days=1), status="error")
    )
    await store.record_usage(
        call("r4", "cheap", None, 0.1, at=MIDNIGHT + timedelta(days=1), status="cancelled")
    )
    await store.record_usage(call("r5", "cheap", None, 0.0, at=MIDNIGHT + timedelta(days=1)))
    # Never counted: refused, still pending, outside the range, another user's.
    await store.record_usage(call("refused", "dear", "key_b", 9.0, status="refused"))
    await store.reserve_usage(
        replace(pending(usage, "pending", alice.id, MIDNIGHT), model="dear", key_id="key_a")
    )
    await store.record_usage(call("before", "dear", "key_a", 5.0, at=MIDNIGHT - timedelta(microseconds=1)))
    await store.record_usage(call("after", "dear", "key_a", 5.0, at=MIDNIGHT + timedelta(days=2)))
    await store.record_usage(call("bob", "dear", None, 5.0, user=bob))
    # A reservation settled later counts, on the day it was admitted; a deleted key keeps its name.
    await store.reserve_usage(
        replace(pending(usage, "late", alice.id, MIDNIGHT), model="dear", key_id="key_b")
    )
    await store.record_usage(call("late", "dear", "key_b", 0.05))
    await store.delete_api_key(alice.id, "key_b")

    breakdown = await store.usage_breakdown(alice.id, FIRST, LAST)
    assert breakdown.by_model == [
        GroupTotals("dear", None, None, 3, 30, 2 + 4 + 4, pico(0.25) + 2 * pico(0.05)),
        GroupTotals("cheap", None, None, 3, 30, 3 + 2 + 2, pico(0.1) + pico(0.1)),
    ]
    assert breakdown.by_key == [
        GroupTotals(None, "key_a", "key key_a", 2, 20, 2 + 3, pico(0.25) + pico(0.1)),
        # Same cost, same requests: by key id, the login token's (none) first.
        GroupTotals(None, None, None, 2, 20, 2 + 2, pico(0.1)),
        GroupTotals(None, "key_b", "key key_b", 2, 20, 4 + 4, pico(0.05) + pico(0.05)),
    ]
    days = await store.daily_usage(alice.id, FIRST, LAST)
    for groups in (breakdown.by_model, breakdown.by_key):
        assert sum(g.requests for g in groups) == sum(d.requests for d in days) == 6
        assert sum(g.tokens for g in groups) == sum(d.tokens for d in days)
        assert sum(g.cost_pico_usd for g in groups) == sum(d.cost_pico_usd for d in days)


async def test_ties_are_ordered_by_name_and_an_empty_range_has_no_groups(
    store: Store, alice: UserRecord, usage: UsageFactory, api_key: KeyFactory
) -> None:
    await store.create_api_key(api_key("key_b", alice.id))
    await store.create_api_key(api_key("key_a", alice.id))
    for request_id, model, key_id in (
        ("r1", "b-model", "key_b"),
        ("r2", "a-model", "key_a"),
        ("r3", "B", None),
    ):
        await store.record_usage(
            replace(usage(request_id, alice.id, created_at=MIDNIGHT), model=model, key_id=key_id)
        )

    breakdown = await store.usage_breakdown(alice.id, FIRST, FIRST)
    assert [g.model for g in breakdown.by_model] == ["B", "a-model", "b-model"]
    assert [g.key_id for g in breakdown.by_key] == [None, "key_a", "key_b"]
    empty = await store.usage_breakdown(alice.id, LAST, LAST + timedelta(days=30))
    assert empty.by_model == empty.by_key == []
