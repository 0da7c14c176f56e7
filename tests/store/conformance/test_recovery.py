"""Leases and recovery: what a store leaves pending is settled as an uncharged error and its claims
freed once no live store holds its lease (closed, expired, or its process gone from this machine),
exactly once however many stores try, and a live store's work never."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta

import pytest

from aihub_core.store.base import IdempotencyRecord, Recovered, StoreOptions, UserRecord
from tests.store.conformance.backends import Backend, opened
from tests.store.conftest import UsageFactory, pending, pico

LEASE = 30.0


class Clock:
    """A clock a test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def by_hand(owner: str, clock: Clock) -> StoreOptions:
    """A store whose lease is renewed and recovery run only when the test says."""
    return StoreOptions(owner=owner, clock=clock, lease_seconds=LEASE, keep_lease=False)


def claim(user: UserRecord, key: str, at: datetime, request_id: str = "r") -> IdempotencyRecord:
    return IdempotencyRecord(user.id, key, "h", request_id, at)


async def test_a_closed_stores_pending_work_is_recovered_by_the_next(
    backend: Backend, alice: UserRecord, usage: UsageFactory, t0: datetime
) -> None:
    async with opened(backend.store()) as before_crash:
        for request_id in ("req_a", "req_b", "req_c"):
            await before_crash.reserve_usage(pending(usage, request_id, alice.id, t0))
        await before_crash.record_usage(usage("req_b", alice.id, cost=0.5))
        assert await before_crash.claim_idempotency_key(claim(alice, "k_running", t0), t0) is None
        assert await before_crash.claim_idempotency_key(claim(alice, "k_done", t0), t0) is None
        await before_crash.complete_idempotency_key(alice.id, "k_done", b"answer")
    restart = t0 + timedelta(minutes=5)
    async with opened(backend.store(by_hand("after", Clock(restart)))) as after_restart:
        recovered = await after_restart.recover_abandoned()
        assert (recovered.reservations, recovered.claims) == (2, 1)
        assert await after_restart.recover_abandoned() == Recovered()
        # A settlement arriving after recovery (it cannot, from a dead process) is ignored.
        await after_restart.record_usage(usage("req_a", alice.id, cost=3.0))
        assert await after_restart.count_requests(alice.id, t0) == 3
        [day] = await after_restart.daily_usage(alice.id, t0.date(), t0.date())
        assert await after_restart.claim_idempotency_key(claim(alice, "k_running", t0, "x"), t0) is None
        held = await after_restart.claim_idempotency_key(claim(alice, "k_done", t0, "x"), t0)
        assert held is not None and held.response == b"answer"  # a done claim stays
    assert (day.requests, day.tokens, day.cost_pico_usd) == (3, 15, pico(0.5))
    rows = {r.request_id: r for r in await backend.ledger()}
    for request_id in ("req_a", "req_c"):
        row = rows[request_id]
        assert (row.status, row.usage_source, row.recovered) == ("error", "none", True)
        assert (row.prompt_tokens, row.completion_tokens, row.cost_pico_usd) == (0, 0, 0)
        assert row.settled_at == restart
    assert (rows["req_b"].status, rows["req_b"].recovered) == ("ok", False)


async def test_an_expired_lease_is_recovered_and_a_live_siblings_work_never(
    backend: Backend, alice: UserRecord, usage: UsageFactory, t0: datetime
) -> None:
    """Two hosts share the database; one stops renewing (killed, lost): once its lease expires,
    the other recovers its work alone, while a store restarting meanwhile touches nothing live."""
    clock = Clock(t0)
    async with (
        opened(backend.store(by_hand("host-a", clock))) as lost,
        opened(backend.store(by_hand("host-b", clock))) as alive,
    ):
        await lost.reserve_usage(pending(usage, "req_lost", alice.id, t0))
        lost.queue_reservation(pending(usage, "req_lost_queued", alice.id, t0))
        await alive.reserve_usage(pending(usage, "req_alive", alice.id, t0))
        for store, key in ((lost, "k_lost"), (alive, "k_alive")):
            assert await store.claim_idempotency_key(claim(alice, key, t0), t0) is None
        # A later write for the same request id: the queued reservation has landed before it.
        await lost.reserve_usage(pending(usage, "req_lost_queued", alice.id, t0))

        clock.advance(LEASE - 1)  # both leases still run
        async with opened(backend.store(by_hand("restarted", clock))) as restarted:
            assert await restarted.recover_abandoned() == Recovered()
        assert await alive.renew_lease() is True

        clock.advance(2)  # host-a's lease has expired; host-b renewed its own
        recovered = await alive.recover_abandoned()
        assert recovered == Recovered(reservations=2, claims=1, owners=("host-a",))
        assert await alive.recover_abandoned() == Recovered()
        # The live store's claim still holds; the lost one's key is free for a retry.
        assert await alive.claim_idempotency_key(claim(alice, "k_alive", t0, "x"), t0)
        assert await alive.claim_idempotency_key(claim(alice, "k_lost", t0, "x"), t0) is None
        # The lost store comes back: its late settlement is ignored, and it takes its lease anew.
        await lost.record_usage(usage("req_lost", alice.id, cost=1.0))
        assert await lost.renew_lease() is False
        assert await lost.renew_lease() is True
    rows = {r.request_id: r for r in await backend.ledger()}
    assert {k: (r.status, r.recovered, r.owner) for k, r in rows.items()} == {
        "req_lost": ("error", True, "host-a"),
        "req_lost_queued": ("error", True, "host-a"),
        "req_alive": ("pending", False, "host-b"),
    }
    assert rows["req_lost"].settled_at == t0 + timedelta(seconds=LEASE + 1)


async def test_recovery_is_exactly_once_when_many_stores_try_at_once(
    backend: Backend, alice: UserRecord, usage: UsageFactory, t0: datetime
) -> None:
    clock = Clock(t0)
    for dead in range(4):
        async with opened(backend.store(by_hand(f"dead-{dead}", clock))) as store:
            for i in range(25):
                await store.reserve_usage(pending(usage, f"req_{dead}_{i}", alice.id, t0))
                assert await store.claim_idempotency_key(claim(alice, f"k_{dead}_{i}", t0), t0) is None
    async with contextlib.AsyncExitStack() as stack:
        live = [
            await stack.enter_async_context(opened(backend.store(by_hand(f"live-{n}", clock))))
            for n in range(5)
        ]
        results = await asyncio.gather(*(store.recover_abandoned() for store in live))
        assert sum(r.reservations for r in results) == 100
        assert sum(r.claims for r in results) == 100
        # Counted once in the reports too: each recovered call is one uncharged request.
        [day] = await live[0].daily_usage(alice.id, t0.date(), t0.date())
        assert (day.requests, day.tokens, day.cost_pico_usd) == (100, 0, 0)
        assert await live[0].count_requests(alice.id, t0) == 100
    rows = await backend.ledger()
    assert len(rows) == 100 and all(r.status == "error" and r.recovered for r in rows)


async def test_a_store_whose_process_is_gone_from_this_machine_is_recovered_at_once(
    backend: Backend, alice: UserRecord, t0: datetime
) -> None:
    """A process killed on this machine (SIGKILL: no close, its lease still running) is seen gone
    by a store here, which recovers its work without waiting for the lease."""
    script = textwrap.dedent(
        f"""
        import asyncio, os, signal
        from datetime import datetime
        from aihub_core.store import open_store
        from aihub_core.store.base import StoreOptions, UsageRecord

        async def main():
            store = open_store({backend.url!r}, StoreOptions(owner="killed", lease_seconds=3600))
            await store.open()
            at = datetime.fromisoformat({t0.isoformat()!r})
            await store.reserve_usage(
                UsageRecord("req_cut", {alice.id!r}, None, "s", "m", 0, 0, 0, "pending", "none", at)
            )
            os.kill(os.getpid(), signal.SIGKILL)

        asyncio.run(main())
        """
    )
    process = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", script], cwd=os.getcwd(), capture_output=True, timeout=60
    )
    assert process.returncode == -signal.SIGKILL, process.stderr.decode()
    async with opened(backend.store(by_hand("survivor", Clock(t0)))) as survivor:
        recovered = await survivor.recover_abandoned()
    assert recovered == Recovered(reservations=1, claims=0, owners=("killed",))
    [row] = await backend.ledger()
    assert (row.request_id, row.status, row.recovered, row.owner) == ("req_cut", "error", True, "killed")


async def test_a_store_holds_its_lease_in_the_background(
    backend: Backend, alice: UserRecord, usage: UsageFactory, t0: datetime
) -> None:
    """With the keeper on, a lease of a fraction of a second is renewed in time, and another store
    recovers a closed store's work on its own, without being asked."""
    options = StoreOptions(lease_seconds=0.6)
    async with opened(backend.store(options)) as keeper, opened(backend.store(options)) as leaving:
        await keeper.reserve_usage(pending(usage, "req_kept", alice.id, t0))
        await leaving.reserve_usage(pending(usage, "req_left", alice.id, t0))
        await leaving.close()
        for _ in range(100):
            await asyncio.sleep(0.05)
            statuses = {r.request_id: r.status for r in await backend.ledger()}
            if statuses["req_left"] == "error":
                break
        assert statuses == {"req_kept": "pending", "req_left": "error"}


async def test_a_clock_of_naive_datetimes_is_refused(backend: Backend) -> None:
    store = backend.store(StoreOptions(clock=lambda: datetime(2026, 1, 1), keep_lease=False))
    with pytest.raises(ValueError, match="naive"):
        await store.open()
    with pytest.raises(RuntimeError, match="not open"):
        await store.get_user("usr_1")
