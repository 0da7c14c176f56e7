"""The ledger's reservations: reserve then settle leaves one row, settled once, by its own user."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from aihub_core.errors import NotFoundError
from aihub_core.store.base import DailyTotals, Durability, Store, StoredMessage, StoreOptions, UserRecord
from tests.store.conformance.backends import Backend, opened
from tests.store.conftest import UsageFactory, pending, pico


async def test_a_queued_reservation_lands_before_the_settlement_queued_after_it(
    store: Store, backend: Backend, alice: UserRecord, usage: UsageFactory, t0: datetime
) -> None:
    store.queue_reservation(pending(usage, "req_1", alice.id, t0))  # returns at once
    settled_at = t0 + timedelta(seconds=3)
    await store.record_usage(usage("req_1", alice.id, cost=0.25, created_at=settled_at))
    [row] = await backend.ledger()  # one row: the reservation, settled
    assert (row.status, row.cost_pico_usd) == ("ok", pico(0.25))
    # The settlement found the reservation: the row keeps the moment the call was admitted.
    assert (row.created_at, row.settled_at) == (t0, settled_at)


async def test_a_queued_reservation_that_fails_is_logged_and_the_settlement_still_records(
    store: Store,
    backend: Backend,
    alice: UserRecord,
    usage: UsageFactory,
    t0: datetime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store.queue_reservation(pending(usage, "req_1", "usr_nobody", t0))  # no such user: refused
    await store.record_usage(usage("req_2", alice.id, created_at=t0))
    await store.close()  # the queued reservation has been tried by then
    assert "a usage reservation was not written" in caplog.text
    assert [row.request_id for row in await backend.ledger()] == ["req_2"]


async def test_reserve_then_settle_leaves_one_settled_row(
    store: Store, backend: Backend, alice: UserRecord, usage: UsageFactory, t0: datetime
) -> None:
    await store.reserve_usage(pending(usage, "req_1", alice.id, t0))
    [row] = await backend.ledger()  # committed by the time the call returned
    assert (row.status, row.settled_at, row.cost_pico_usd) == ("pending", None, 0)
    # In flight: counted against the quota, not in the reports (it has no cost yet).
    assert await store.count_requests(alice.id, t0) == 1
    assert await store.daily_usage(alice.id, t0.date(), t0.date()) == []

    settled_at = t0 + timedelta(seconds=3)
    await store.record_usage(usage("req_1", alice.id, cost=0.25, created_at=settled_at, prompt_tokens=7))
    [row] = await backend.ledger()
    assert row.status == "ok" and row.usage_source == "provider"
    assert (row.prompt_tokens, row.completion_tokens, row.cost_pico_usd) == (7, 5, pico(0.25))
    # The row keeps the moment the call was admitted, and says when it was settled.
    assert row.created_at == t0
    assert row.settled_at == settled_at
    assert row.recovered is False
    assert await store.count_requests(alice.id, t0) == 1
    assert await store.daily_usage(alice.id, t0.date(), t0.date()) == [
        DailyTotals(t0.date(), requests=1, tokens=12, cost_pico_usd=pico(0.25))
    ]


async def test_a_settlement_fills_in_every_column_and_the_reservation_keeps_its_key(
    store: Store, backend: Backend, alice: UserRecord, usage: UsageFactory, t0: datetime
) -> None:
    await store.reserve_usage(replace(pending(usage, "req_1", alice.id, t0), key_id="key_1"))
    settlement = replace(
        usage("req_1", alice.id, cost=0.125, created_at=t0 + timedelta(seconds=2)),
        key_id=None,
        service="gemini",
        model="gemini-2.0-flash",
        status="cancelled",
        usage_source="estimated",
        session_id="s1",
        response_time_ms=1234,
    )
    await store.record_usage(settlement)
    [row] = await backend.ledger()
    assert (row.key_id, row.service, row.model, row.status, row.usage_source) == (
        "key_1",
        "gemini",
        "gemini-2.0-flash",
        "cancelled",
        "estimated",
    )
    assert (row.session_id, row.response_time_ms, row.cost_pico_usd) == ("s1", 1234, pico(0.125))
    assert row.owner == store.owner


async def test_settling_twice_keeps_the_first_settlement(
    store: Store, backend: Backend, alice: UserRecord, usage: UsageFactory, t0: datetime
) -> None:
    await store.reserve_usage(pending(usage, "req_1", alice.id, t0))
    await store.record_usage(usage("req_1", alice.id, cost=0.5))
    await store.record_usage(usage("req_1", alice.id, cost=9.0, status="error", prompt_tokens=999))
    user_turn = StoredMessage("user", "hi", t0)
    answer = StoredMessage("assistant", "hello", t0)
    await store.append_turn(alice.id, "s1", user_turn, answer, usage("req_1", alice.id, cost=7.0))
    await store.reserve_usage(pending(usage, "req_1", alice.id, t0))  # a late reservation changes nothing
    [row] = await backend.ledger()
    assert (row.status, row.cost_pico_usd, row.prompt_tokens) == ("ok", pico(0.5), 10)
    assert await store.session_messages(alice.id, "s1") == [user_turn, answer]


@pytest.mark.parametrize("durability", list(Durability))
async def test_every_durability_settles_once(
    backend: Backend, alice: UserRecord, usage: UsageFactory, t0: datetime, durability: Durability
) -> None:
    async with opened(backend.store(StoreOptions(durability=durability))) as store:
        await store.reserve_usage(pending(usage, "req_1", alice.id, t0))
        await store.record_usage(usage("req_1", alice.id, cost=0.5))
        await store.record_usage(usage("req_1", alice.id, cost=9.0))
        [row] = await backend.ledger()  # committed, and seen by another client, once it returned
        assert (row.status, row.cost_pico_usd) == ("ok", pico(0.5))


async def test_append_turn_settles_the_reservation_with_its_turn(
    store: Store, backend: Backend, alice: UserRecord, usage: UsageFactory, t0: datetime
) -> None:
    await store.reserve_usage(pending(usage, "req_1", alice.id, t0))
    turn = (StoredMessage("user", "hi", t0), StoredMessage("assistant", "hello", t0))
    settlement = replace(usage("req_1", alice.id, cost=0.1), model="fallback")
    await store.append_turn(alice.id, "s1", *turn, settlement)
    [row] = await backend.ledger()
    assert (row.status, row.cost_pico_usd, row.model) == ("ok", pico(0.1), "fallback")
    assert len(await store.session_messages(alice.id, "s1") or []) == 2


async def test_a_settlement_without_reservation_is_inserted_and_refusals_need_none(
    store: Store, backend: Backend, alice: UserRecord, usage: UsageFactory
) -> None:
    await store.record_usage(usage("req_ok", alice.id, cost=0.5))
    await store.record_usage(usage("req_refused", alice.id, status="refused", prompt_tokens=0))
    rows = await backend.ledger()
    assert [(r.request_id, r.status) for r in rows] == [("req_ok", "ok"), ("req_refused", "refused")]
    assert all(r.settled_at == r.created_at for r in rows)


async def test_another_users_settlement_cannot_touch_a_reservation(
    store: Store, backend: Backend, alice: UserRecord, bob: UserRecord, usage: UsageFactory, t0: datetime
) -> None:
    await store.reserve_usage(pending(usage, "req_1", alice.id, t0))
    await store.record_usage(usage("req_1", bob.id, cost=1.0))
    [row] = await backend.ledger()
    assert (row.user_id, row.status) == (alice.id, "pending")


async def test_reservations_are_pending_and_settlements_are_not(
    store: Store, backend: Backend, alice: UserRecord, usage: UsageFactory, t0: datetime
) -> None:
    with pytest.raises(ValueError, match="pending"):
        await store.reserve_usage(usage("req_1", alice.id))
    with pytest.raises(ValueError, match="pending"):
        await store.record_usage(pending(usage, "req_2", alice.id, t0))
    assert await backend.ledger() == []


async def test_a_reservation_for_an_unknown_user_is_refused(
    store: Store, backend: Backend, usage: UsageFactory, t0: datetime
) -> None:
    with pytest.raises(NotFoundError):
        await store.reserve_usage(pending(usage, "req_1", "usr_ghost", t0))
    assert await backend.ledger() == []
