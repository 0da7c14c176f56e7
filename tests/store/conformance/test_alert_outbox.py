"""The outbox as an operator sees it, on every backend: what is owed (oldest first) or recent
(newest first) with its attempts and error, the owed count and oldest age the metrics read, and
a retry that makes owed events due now for whichever store's delivery loop polls next."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from aihub_core.store.base import AlertEvent, AlertRecord, Store, StoreOptions, UserRecord
from aihub_core.store.outbox import MAX_OUTBOX_LIST
from tests.store.conformance.backends import Backend, opened


def _event(event_id: str, alert_id: str, user_id: str, at: datetime, period: str) -> AlertEvent:
    return AlertEvent(event_id, alert_id, user_id, period, "{}", at)


async def _outbox(store: Store, alice: UserRecord, bob: UserRecord, t0: datetime) -> None:
    """Four events of two users: evt_1 delivered, evt_2 failed twice (due in an hour), evt_3 owed
    untried (due at t0 + 30 s), and evt_4 recorded while no webhook was configured."""
    for user, alert in ((alice, "alert_a"), (bob, "alert_b")):
        await store.create_alert(AlertRecord(alert, user.id, "", "requests", 0, "", 5, "day", t0))
    await store.fire_alert(_event("evt_1", "alert_a", alice.id, t0, "d1"))
    await store.fire_alert(_event("evt_2", "alert_a", alice.id, t0 + timedelta(seconds=1), "d2"))
    await store.fire_alert(_event("evt_3", "alert_b", bob.id, t0 + timedelta(seconds=30), "d2"))
    unsent = replace(_event("evt_4", "alert_b", bob.id, t0 + timedelta(seconds=40), "d3"), deliver=False)
    await store.fire_alert(unsent)
    lease = t0 + timedelta(minutes=1)
    claimed = await store.claim_alert_deliveries(t0 + timedelta(seconds=1), lease, 10)
    assert [d.event_id for d in claimed] == ["evt_1", "evt_2"]
    await store.finish_alert_delivery("evt_1", t0 + timedelta(seconds=5), t0 + timedelta(seconds=5), "")
    await store.finish_alert_delivery("evt_2", None, t0 + timedelta(seconds=10), "HTTP 500")
    [again] = await store.claim_alert_deliveries(t0 + timedelta(seconds=10), lease, 1)
    await store.finish_alert_delivery(again.event_id, None, t0 + timedelta(hours=1), "HTTP 502")


async def test_the_outbox_lists_owed_events_oldest_first_and_every_event_newest_first(
    store: Store, alice: UserRecord, bob: UserRecord, t0: datetime
) -> None:
    await _outbox(store, alice, bob, t0)
    owed = await store.alert_outbox(100)
    assert [(e.event_id, e.state) for e in owed] == [("evt_2", "owed"), ("evt_3", "owed")]
    failed = owed[0]
    assert (failed.user_id, failed.user_email, failed.alert_id) == (alice.id, alice.email, "alert_a")
    assert (failed.created_at, failed.attempts) == (t0 + timedelta(seconds=1), 2)
    assert (failed.next_attempt_at, failed.delivered_at, failed.last_error) == (
        t0 + timedelta(hours=1),
        None,
        "HTTP 502",
    )
    assert (owed[1].attempts, owed[1].next_attempt_at, owed[1].last_error) == (
        0,
        t0 + timedelta(seconds=30),
        "",
    )
    assert [e.event_id for e in await store.alert_outbox(1)] == ["evt_2"]
    every = await store.alert_outbox(100, include_delivered=True)
    assert [(e.event_id, e.state) for e in every] == [
        ("evt_4", "unsent"),
        ("evt_3", "owed"),
        ("evt_2", "owed"),
        ("evt_1", "delivered"),
    ]
    assert every[3].delivered_at == t0 + timedelta(seconds=5) and every[3].attempts == 1
    assert [e.event_id for e in await store.alert_outbox(2, include_delivered=True)] == ["evt_4", "evt_3"]
    for wrong in (0, MAX_OUTBOX_LIST + 1):
        with pytest.raises(ValueError, match="limit"):
            await store.alert_outbox(wrong)


async def test_the_summary_counts_owed_events_and_the_oldest_ones_time(
    store: Store, alice: UserRecord, bob: UserRecord, t0: datetime
) -> None:
    empty = await store.alert_outbox_summary()
    assert (empty.owed, empty.oldest) == (0, None)
    await _outbox(store, alice, bob, t0)
    summary = await store.alert_outbox_summary()
    assert (summary.owed, summary.oldest) == (2, t0 + timedelta(seconds=1))
    await store.retry_alert_deliveries(t0, None)
    [claimed, _] = await store.claim_alert_deliveries(t0, t0 + timedelta(minutes=1), 10)
    await store.finish_alert_delivery(claimed.event_id, t0, t0, "")
    summary = await store.alert_outbox_summary()
    assert (summary.owed, summary.oldest) == (1, t0 + timedelta(seconds=30))


async def test_a_retry_makes_owed_events_due_now_for_any_store(
    backend: Backend, alice: UserRecord, bob: UserRecord, store: Store, t0: datetime
) -> None:
    await _outbox(store, alice, bob, t0)
    now = t0 + timedelta(seconds=20)
    lease = now + timedelta(minutes=1)
    async with opened(backend.store(StoreOptions(keep_lease=False))) as other:
        assert await other.claim_alert_deliveries(now, lease, 10) == []  # evt_2 waits an hour
        named = await store.retry_alert_deliveries(now, ["evt_2", "evt_1", "evt_4", "evt_none"])
        assert named == ["evt_2"]  # delivered, unsent and unknown ones are not owed
        [due] = await other.claim_alert_deliveries(now, lease, 10)
        assert (due.event_id, due.attempts) == ("evt_2", 2)  # its attempts stay
        [listed, _] = await store.alert_outbox(10)
        assert (listed.next_attempt_at, listed.last_error) == (now, "HTTP 502")
        # A retry of everything owed: evt_2 is claimed (an attempt under way keeps its claim).
        assert await store.retry_alert_deliveries(now, None) == ["evt_2", "evt_3"]
        assert [d.event_id for d in await store.claim_alert_deliveries(now, lease, 10)] == ["evt_3"]
        assert await store.retry_alert_deliveries(now, []) == []


async def test_an_event_given_up_on_is_listed_and_not_claimed_until_retried(
    store: Store, alice: UserRecord, bob: UserRecord, t0: datetime
) -> None:
    await _outbox(store, alice, bob, t0)
    now = t0 + timedelta(hours=2)
    lease = now + timedelta(minutes=1)
    [claimed, _] = await store.claim_alert_deliveries(now, lease, 10)
    assert claimed.event_id == "evt_2"  # recorded at t0 + 1 s
    assert not await store.give_up_alert_delivery(
        "evt_2", t0 + timedelta(seconds=1), "HTTP 503"
    )  # not before
    assert not await store.give_up_alert_delivery("evt_1", now, "HTTP 503")  # delivered
    assert not await store.give_up_alert_delivery("evt_none", now, "HTTP 503")
    assert await store.give_up_alert_delivery("evt_2", t0 + timedelta(seconds=2), "HTTP 503")
    [given_up, owed] = await store.alert_outbox(10)
    assert (given_up.event_id, given_up.state, given_up.attempts) == ("evt_2", "given_up", 3)
    assert (given_up.next_attempt_at, given_up.last_error) == (None, "HTTP 503")
    assert owed.event_id == "evt_3"
    every = {e.event_id: e.state for e in await store.alert_outbox(10, include_delivered=True)}
    assert every == {"evt_1": "delivered", "evt_2": "given_up", "evt_3": "owed", "evt_4": "unsent"}
    summary = await store.alert_outbox_summary()  # given up: no longer owed
    assert (summary.owed, summary.oldest) == (1, t0 + timedelta(seconds=30))
    await store.finish_alert_delivery("evt_3", None, now, "HTTP 503")  # drop evt_3's claim
    later = now + timedelta(days=30)
    assert [d.event_id for d in await store.claim_alert_deliveries(later, later, 10)] == ["evt_3"]
    # The operator retries it: owed again, claimed at the next poll.
    assert await store.retry_alert_deliveries(later, ["evt_2", "evt_4"]) == ["evt_2"]
    [due] = await store.claim_alert_deliveries(later, later + timedelta(minutes=1), 10)
    assert (due.event_id, due.attempts) == ("evt_2", 3)
