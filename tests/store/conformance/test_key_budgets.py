"""Key budgets: stored with the key, and the ledger's settled spend of a key (or a user) since a moment."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from aihub_core.store.base import Store, UsageRecord, UsageStatus, UserRecord
from tests.store.conftest import KeyFactory, UsageFactory, pending, pico

START = datetime(2026, 4, 10, tzinfo=UTC)


async def test_a_key_keeps_its_budget(store: Store, alice: UserRecord, api_key: KeyFactory) -> None:
    budgeted = replace(api_key("key_b", alice.id), budget_pico_usd=5 * 10**18, budget_period="month")
    plain = api_key("key_p", alice.id, created_at=budgeted.created_at - timedelta(hours=1))
    await store.create_api_key(budgeted)
    await store.create_api_key(plain)
    assert await store.get_api_key_by_hash(budgeted.key_hash) == budgeted
    assert await store.list_api_keys(alice.id) == [budgeted, plain]
    assert (plain.budget_pico_usd, plain.budget_period) == (None, None)


async def test_key_spent_sums_the_settled_billable_costs_since_a_moment(
    store: Store, alice: UserRecord, usage: UsageFactory
) -> None:
    def mine(
        request_id: str, status: UsageStatus = "ok", cost: float = 0.0, created_at: datetime = START
    ) -> UsageRecord:
        return replace(
            usage(request_id, alice.id, status=status, cost=cost, created_at=created_at), key_id="key_b"
        )

    await store.record_usage(mine("before", cost=1.0, created_at=START - timedelta(microseconds=1)))
    await store.record_usage(mine("at", cost=0.000002, created_at=START))
    await store.record_usage(mine("error", status="error", cost=0.25, created_at=START + timedelta(days=3)))
    await store.record_usage(
        mine("cut", status="cancelled", cost=0.125, created_at=START + timedelta(days=3))
    )
    await store.record_usage(mine("refused", status="refused", created_at=START + timedelta(days=3)))
    await store.reserve_usage(replace(pending(usage, "in-flight", alice.id, START), key_id="key_b"))
    other = replace(usage("other-key", alice.id, cost=7.0, created_at=START), key_id="key_o")
    await store.record_usage(other)
    await store.record_usage(usage("no-key", alice.id, cost=9.0, created_at=START))
    assert await store.key_spent("key_b", START) == pico(0.000002) + pico(0.25) + pico(0.125)
    assert await store.key_spent("key_b", START - timedelta(days=1)) == pico(1.375002)
    assert await store.key_spent("key_nobody", START) == 0
    # Every call of the user, with any key or none.
    assert await store.user_spent(alice.id, START) == pico(0.375002) + pico(7.0) + pico(9.0)
    assert await store.user_spent("usr_nobody", START) == 0


async def test_a_user_budget_is_set_changed_and_removed(store: Store, alice: UserRecord) -> None:
    assert (alice.budget_pico_usd, alice.budget_period) == (None, None)
    generation = await store.auth_generation()
    assert await store.set_user_budget(alice.email.upper(), 5 * 10**12, "day") is True
    assert await store.auth_generation() > generation  # cached callers see it
    assert await store.get_user(alice.id) == replace(alice, budget_pico_usd=5 * 10**12, budget_period="day")
    assert await store.set_user_budget(alice.email, 10**18, "month") is True
    assert await store.get_user_by_email(alice.email) == replace(
        alice, budget_pico_usd=10**18, budget_period="month"
    )
    assert await store.set_user_budget(alice.email, None, None) is True
    assert await store.get_user(alice.id) == alice
    assert await store.set_user_budget("nobody@example.com", 1, "day") is False
