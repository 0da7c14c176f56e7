"""Usage alerts and their outbox: CRUD counted on the user, one event per alert and period
however many stores fire at once, and claims that hand each due event to one store at a time."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from aihub_core.errors import InvalidRequestError, NotFoundError
from aihub_core.store.base import AlertEvent, AlertRecord, Store, StoreOptions, UserRecord
from aihub_core.store.protocols.alerts import MAX_ALERTS_PER_USER
from tests.store.conformance.backends import Backend, opened


def _alert(alert_id: str, user_id: str, t0: datetime, **fields: object) -> AlertRecord:
    alert = AlertRecord(alert_id, user_id, "spend", "cost_usd", 0.8, "budget", 0, "", t0)
    return replace(alert, **fields)  # type: ignore[arg-type]


def _event(event_id: str, alert_id: str, user_id: str, t0: datetime, period: str = "m2026-03") -> AlertEvent:
    return AlertEvent(event_id, alert_id, user_id, period, f'{{"id": "{event_id}"}}', t0)


async def test_alerts_are_created_listed_oldest_first_and_deleted_per_user(
    store: Store, alice: UserRecord, bob: UserRecord, t0: datetime
) -> None:
    later = _alert(
        "alert_2", alice.id, t0 + timedelta(seconds=1), metric="tokens", of="", amount=1000, period="day"
    )
    await store.create_alert(later)
    await store.create_alert(_alert("alert_1", alice.id, t0))
    await store.create_alert(_alert("alert_3", bob.id, t0))
    assert [a.id for a in await store.list_alerts(alice.id)] == ["alert_1", "alert_2"]
    assert (await store.list_alerts(alice.id))[1] == later
    generation = await store.auth_generation()
    user = await store.get_user(alice.id)
    assert user is not None and user.alert_count == 2
    assert not await store.delete_alert(bob.id, "alert_1")  # not bob's
    assert await store.delete_alert(alice.id, "alert_1")
    assert not await store.delete_alert(alice.id, "alert_1")
    user = await store.get_user(alice.id)
    assert user is not None and user.alert_count == 1
    assert await store.auth_generation() != generation  # cached callers learn the count
    with pytest.raises(NotFoundError):
        await store.create_alert(_alert("alert_9", "usr_ghost", t0))


async def test_an_alert_fires_once_per_period_and_records_when(
    store: Store, alice: UserRecord, t0: datetime
) -> None:
    await store.create_alert(_alert("alert_1", alice.id, t0))
    fired = [_event(f"evt_{i}", "alert_1", alice.id, t0 + timedelta(seconds=i)) for i in range(20)]
    outcomes = await asyncio.gather(*(store.fire_alert(e) for e in fired))
    assert sum(outcomes) == 1
    winner = fired[outcomes.index(True)]
    [alert] = await store.list_alerts(alice.id)
    assert alert.last_fired_at == winner.created_at
    assert await store.fire_alert(_event("evt_next", "alert_1", alice.id, t0, period="m2026-04"))
    events = await store.alert_events(alice.id, t0)
    assert sorted(e.id for e in events) == sorted([winner.id, "evt_next"])
    assert await store.alert_events(alice.id, t0 + timedelta(hours=1)) == []


async def test_two_stores_firing_at_once_record_one_event(backend: Backend, t0: datetime) -> None:
    async with (
        opened(backend.store(StoreOptions(keep_lease=False))) as one,
        opened(backend.store(StoreOptions(keep_lease=False))) as two,
    ):
        await one.create_user(UserRecord("usr_a", "a@example.com", "h", "free", t0))
        await one.create_alert(_alert("alert_1", "usr_a", t0))
        tries = [
            (one if i % 2 else two).fire_alert(_event(f"evt_{i}", "alert_1", "usr_a", t0)) for i in range(40)
        ]
        assert sum(await asyncio.gather(*tries)) == 1


async def test_due_events_are_claimed_once_retried_and_delivered(
    backend: Backend, store: Store, alice: UserRecord, t0: datetime
) -> None:
    await store.create_alert(_alert("alert_1", alice.id, t0))
    for i in range(6):
        assert await store.fire_alert(
            _event(f"evt_{i}", "alert_1", alice.id, t0, period=f"d2026-03-0{i + 1}")
        )
    # Recorded only (no webhook): never claimed.
    silent = replace(_event("evt_silent", "alert_1", alice.id, t0, period="m2026-05"), deliver=False)
    assert await store.fire_alert(silent)
    lease = t0 + timedelta(seconds=30)
    async with opened(backend.store(StoreOptions(keep_lease=False))) as other:
        first, second = await asyncio.gather(
            store.claim_alert_deliveries(t0, lease, 4), other.claim_alert_deliveries(t0, lease, 4)
        )
    claimed = [d.event_id for d in first + second]
    assert sorted(claimed) == [f"evt_{i}" for i in range(6)]  # each once, the silent one never
    assert await store.claim_alert_deliveries(t0 + timedelta(seconds=1), lease, 10) == []  # still held
    await store.finish_alert_delivery("evt_0", t0, t0, "")
    await store.finish_alert_delivery("evt_0", None, t0, "a late failure")  # stays delivered
    await store.finish_alert_delivery("evt_1", None, t0 + timedelta(seconds=10), "HTTP 500")
    # evt_1 is due again at +10 s; the others' claims lapse at +30 s; evt_0 is done.
    assert [
        d.event_id for d in await store.claim_alert_deliveries(t0 + timedelta(seconds=10), lease, 10)
    ] == ["evt_1"]
    await store.finish_alert_delivery("evt_1", None, t0 + timedelta(seconds=20), "HTTP 500")
    again = await store.claim_alert_deliveries(t0 + timedelta(seconds=31), t0 + timedelta(seconds=60), 10)
    assert sorted(d.event_id for d in again) == [f"evt_{i}" for i in range(1, 6)]
    assert {d.event_id: d.attempts for d in again}["evt_1"] == 2
    assert {d.payload for d in again} >= {'{"id": "evt_1"}'}


async def test_a_late_failure_of_a_lapsed_claim_leaves_the_new_claim_alone(
    store: Store, alice: UserRecord, t0: datetime
) -> None:
    await store.create_alert(_alert("alert_1", alice.id, t0))
    assert await store.fire_alert(_event("evt_0", "alert_1", alice.id, t0))
    first_lease = t0 + timedelta(seconds=15)
    [first] = await store.claim_alert_deliveries(t0, first_lease, 10)
    # The first claim lapses mid-POST; another process claims the event.
    later = t0 + timedelta(seconds=16)
    second_lease = later + timedelta(seconds=15)
    [second] = await store.claim_alert_deliveries(later, second_lease, 10)
    assert first.event_id == second.event_id == "evt_0"
    # The first attempt fails late: neither its finish nor its give-up touches the second claim.
    await store.finish_alert_delivery("evt_0", None, later, "HTTP 500", claimed=first_lease)
    assert not await store.give_up_alert_delivery("evt_0", later, "HTTP 500", claimed=first_lease)
    assert (
        await store.claim_alert_deliveries(later + timedelta(seconds=1), later + timedelta(minutes=1), 10)
        == []
    )
    [entry] = await store.alert_outbox(10)
    assert (entry.attempts, entry.last_error) == (0, "")
    # The second attempt's own failure applies (and drops its claim).
    await store.finish_alert_delivery("evt_0", None, later, "HTTP 502", claimed=second_lease)
    [entry] = await store.alert_outbox(10)
    assert (entry.attempts, entry.last_error) == (1, "HTTP 502")
    # A delivery is recorded whoever holds the claim.
    assert len(await store.claim_alert_deliveries(later, later + timedelta(seconds=15), 10)) == 1
    await store.finish_alert_delivery("evt_0", later, later, "", claimed=first_lease)
    assert await store.alert_outbox(10) == []
    assert await store.give_up_alert_delivery("evt_0", later, "x", claimed=None) is False  # delivered


async def test_concurrent_creates_never_pass_the_cap_of_alerts_per_user(
    backend: Backend, store: Store, alice: UserRecord, t0: datetime
) -> None:
    for i in range(MAX_ALERTS_PER_USER - 3):
        await store.create_alert(_alert(f"alert_{i}", alice.id, t0))
    async with opened(backend.store(StoreOptions(keep_lease=False))) as other:
        results = await asyncio.gather(
            *(
                (store if n % 2 else other).create_alert(_alert(f"alert_new_{n}", alice.id, t0))
                for n in range(8)
            ),
            return_exceptions=True,
        )
    refused = [r for r in results if isinstance(r, InvalidRequestError)]
    assert len(refused) == 5 and all(r.code == "too_many_alerts" for r in refused)
    assert [r for r in results if r is not None and r not in refused] == []
    assert len(await store.list_alerts(alice.id)) == MAX_ALERTS_PER_USER
    user = await store.get_user(alice.id)
    assert user is not None and user.alert_count == MAX_ALERTS_PER_USER
    # A deleted one makes room for one more.
    assert await store.delete_alert(alice.id, "alert_0")
    await store.create_alert(_alert("alert_last", alice.id, t0))
    with pytest.raises(InvalidRequestError):
        await store.create_alert(_alert("alert_over", alice.id, t0))
