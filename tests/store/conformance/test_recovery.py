"""Recovery: what a dead process left pending is settled as an uncharged error and its claims
freed, all of it at start-up, or one owner's alone while the others' calls go on."""

from __future__ import annotations

from datetime import datetime, timedelta

from aihub_core.store.base import IdempotencyRecord, Store, UserRecord
from tests.store.conformance.backends import Backend, opened
from tests.store.conftest import UsageFactory, pending


def claim(user: UserRecord, key: str, at: datetime, request_id: str = "r") -> IdempotencyRecord:
    return IdempotencyRecord(user.id, key, "h", request_id, at)


async def test_recovery_settles_pending_rows_as_uncharged_errors(
    backend: Backend, alice: UserRecord, usage: UsageFactory, t0: datetime
) -> None:
    async with opened(backend.store()) as before_crash:
        for request_id in ("req_a", "req_b", "req_c"):
            await before_crash.reserve_usage(pending(usage, request_id, alice.id, t0))
        await before_crash.record_usage(usage("req_b", alice.id, cost=0.5))
    restart = t0 + timedelta(minutes=5)
    async with opened(backend.store()) as after_restart:
        assert await after_restart.recover_pending(restart) == 2
        assert await after_restart.recover_pending(restart) == 0
        # A settlement arriving after recovery (it cannot, from a dead process) is ignored.
        await after_restart.record_usage(usage("req_a", alice.id, cost=3.0))
        assert await after_restart.count_requests(alice.id, t0) == 3
        [day] = await after_restart.daily_usage(alice.id, t0.date(), t0.date())
    assert (day.requests, day.tokens, day.cost_usd) == (3, 15, 0.5)
    rows = {r.request_id: r for r in await backend.ledger()}
    for request_id in ("req_a", "req_c"):
        row = rows[request_id]
        assert (row.status, row.usage_source, row.recovered) == ("error", "none", True)
        assert (row.prompt_tokens, row.completion_tokens, row.cost_usd) == (0, 0, 0.0)
        assert row.settled_at == restart
    assert (rows["req_b"].status, rows["req_b"].recovered) == ("ok", False)


async def test_a_dead_workers_pending_calls_and_claims_are_settled_and_no_one_elses(
    backend: Backend, alice: UserRecord, usage: UsageFactory, t0: datetime
) -> None:
    """Workers share the database; when one dies, only what it left pending is settled or freed."""
    async with opened(backend.store(owner="pid:1")) as dead, opened(backend.store(owner="pid:2")) as alive:
        await dead.reserve_usage(pending(usage, "req_dead", alice.id, t0))
        dead.queue_reservation(pending(usage, "req_dead_queued", alice.id, t0))
        await alive.reserve_usage(pending(usage, "req_alive", alice.id, t0))
        for store, key in ((dead, "k_dead"), (alive, "k_alive")):
            assert await store.claim_idempotency_key(claim(alice, key, t0), t0) is None
    async with opened(backend.store()) as supervisor:
        assert await supervisor.count_requests(alice.id, t0) == 3  # the queued one was written by close
        assert await supervisor.recover_pending(t0, "pid:1") == 2
        assert await supervisor.release_pending_idempotency_keys("pid:1") == 1
        assert await supervisor.recover_pending(t0, "pid:1") == 0
        # The live worker's claim still holds; the dead one's key is free for a retry.
        assert await supervisor.claim_idempotency_key(claim(alice, "k_alive", t0, "x"), t0)
        assert await supervisor.claim_idempotency_key(claim(alice, "k_dead", t0, "x"), t0) is None
    rows = {r.request_id: r for r in await backend.ledger()}
    assert {k: (r.status, r.recovered, r.owner) for k, r in rows.items()} == {
        "req_dead": ("error", True, "pid:1"),
        "req_dead_queued": ("error", True, "pid:1"),
        "req_alive": ("pending", False, "pid:2"),
    }


async def test_start_up_recovery_settles_every_owners_calls_and_frees_every_claim(
    store: Store, backend: Backend, alice: UserRecord, usage: UsageFactory, t0: datetime
) -> None:
    async with opened(backend.store(owner="pid:1")) as worker:
        await worker.reserve_usage(pending(usage, "req_owned", alice.id, t0))
        assert await worker.claim_idempotency_key(claim(alice, "k_owned", t0), t0) is None
    await store.reserve_usage(pending(usage, "req_unowned", alice.id, t0))
    assert await store.claim_idempotency_key(claim(alice, "k_unowned", t0), t0) is None
    assert await store.claim_idempotency_key(claim(alice, "k_done", t0), t0) is None
    await store.complete_idempotency_key(alice.id, "k_done", b"answer")
    await store.record_usage(usage("req_settled", alice.id, cost=0.5))

    assert await store.recover_pending(t0) == 2
    assert await store.release_pending_idempotency_keys() == 2
    rows = {r.request_id: (r.status, r.recovered, r.owner) for r in await backend.ledger()}
    assert rows == {
        "req_owned": ("error", True, "pid:1"),
        "req_unowned": ("error", True, None),
        "req_settled": ("ok", False, None),
    }
    for key in ("k_owned", "k_unowned"):
        assert await store.claim_idempotency_key(claim(alice, key, t0, "x"), t0) is None
    held = await store.claim_idempotency_key(claim(alice, "k_done", t0, "x"), t0)
    assert held is not None and held.response == b"answer"
