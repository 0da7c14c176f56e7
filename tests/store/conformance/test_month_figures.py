"""`month_figures`: many accounts' quota counts and costs in grouped reads, equal to what
`count_requests` and `daily_usage` say of each account alone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from aihub_core.store.base import Store, UserRecord
from aihub_core.store.rows import IDS_PER_QUERY
from tests.store.conftest import UsageFactory, UserFactory, pending, pico

MONTH = datetime(2026, 4, 1, tzinfo=UTC)
TODAY = date(2026, 4, 20)


async def _ledger(store: Store, users: list[UserRecord], usage: UsageFactory) -> None:
    """Each user a different mix: last month's calls, this month's billable ones (some on a day
    after TODAY), refused and pending ones, and calls on the day of a mid-day `since`."""
    for n, user in enumerate(users):
        at = MONTH + timedelta(days=n)
        for i in range(n + 1):
            await store.record_usage(usage(f"{user.id}-ok{i}", user.id, cost=0.1 * (i + 1), created_at=at))
        await store.record_usage(
            usage(f"{user.id}-last", user.id, cost=3.0, created_at=MONTH - timedelta(microseconds=1))
        )
        await store.record_usage(
            usage(f"{user.id}-err", user.id, status="error", cost=0.5, created_at=at + timedelta(hours=13))
        )
        await store.record_usage(
            usage(f"{user.id}-cxl", user.id, status="cancelled", cost=0.25, created_at=at)
        )
        await store.record_usage(usage(f"{user.id}-ref", user.id, status="refused", cost=9.0, created_at=at))
        await store.reserve_usage(pending(usage, f"{user.id}-pend", user.id, at + timedelta(hours=1)))
        await store.record_usage(
            usage(f"{user.id}-late", user.id, cost=2.0, created_at=datetime(2026, 4, 25, tzinfo=UTC))
        )


@pytest.mark.parametrize(
    "since", [MONTH, MONTH + timedelta(hours=12), MONTH + timedelta(days=1, hours=12, microseconds=1)]
)
async def test_month_figures_equal_count_requests_and_daily_usage(
    store: Store,
    alice: UserRecord,
    bob: UserRecord,
    make_user: UserFactory,
    usage: UsageFactory,
    since: datetime,
) -> None:
    carol = make_user("usr_carol", "carol@example.com")
    await store.create_user(carol)
    users = [alice, bob, carol]
    await _ledger(store, users, usage)
    ids = [u.id for u in users] + ["usr_nobody", alice.id]  # an unknown id, a repeat
    figures = await store.month_figures(ids, since, since.date(), TODAY)
    assert set(figures) == set(ids)
    for user_id in ids:
        days = await store.daily_usage(user_id, since.date(), TODAY)
        expected = (await store.count_requests(user_id, since), sum(d.cost_pico_usd for d in days))
        assert figures[user_id] == expected, user_id
    assert figures["usr_nobody"] == (0, 0)
    if since == MONTH:
        # alice: 1 ok, error, cancelled, pending, late; her costs to TODAY: 0.1 + 0.5 + 0.25
        assert figures[alice.id] == (5, pico(0.1) + pico(0.5) + pico(0.25))
        assert figures[carol.id] == (7, pico(0.1) + pico(0.2) + pico(0.3) + pico(0.5) + pico(0.25))


async def test_month_figures_of_many_ids_read_in_chunks(
    store: Store, alice: UserRecord, bob: UserRecord, usage: UsageFactory
) -> None:
    await _ledger(store, [alice, bob], usage)
    ghosts = [f"usr_ghost{i}" for i in range(2 * IDS_PER_QUERY + 1)]
    ids = [*ghosts[:IDS_PER_QUERY], alice.id, *ghosts[IDS_PER_QUERY:], bob.id]
    figures = await store.month_figures(ids, MONTH, MONTH.date(), TODAY)
    assert len(figures) == len(ids)
    assert figures[alice.id] == (
        await store.count_requests(alice.id, MONTH),
        pico(0.1) + pico(0.5) + pico(0.25),
    )
    assert figures[bob.id] == (6, pico(0.1) + pico(0.2) + pico(0.5) + pico(0.25))
    assert {figures[g] for g in ghosts} == {(0, 0)}
    assert await store.month_figures([], MONTH, MONTH.date(), TODAY) == {}


async def test_month_figures_refuse_a_naive_moment(store: Store, alice: UserRecord) -> None:
    with pytest.raises(ValueError, match="naive"):
        await store.month_figures([alice.id], datetime(2026, 4, 1), MONTH.date(), TODAY)
