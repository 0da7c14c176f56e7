"""The store's lease and the recovery of work abandoned by stores that hold none."""

from __future__ import annotations

from typing import Protocol

from aihub_core.store.records import Recovered


class LeaseStore(Protocol):
    """What a lease keeper (`leases.LeaseKeeper`) drives."""

    async def renew_lease(self) -> bool:
        """Extend this store's lease to now + its length; True if it was still held. False if it
        had ended meanwhile (this process stalled longer than the lease, and another store
        recovered its work): it is taken anew, and that loss logged."""
        ...

    async def recover_abandoned(self) -> Recovered:
        """Recover the work no live store holds, exactly once however many stores try at the same
        time: end the leases that expired (by the store's clock) or whose process is gone from
        this machine, then settle every `pending` reservation whose owner holds no lease as an
        uncharged, recovered `error` (0 tokens, cost 0, usage source `none`, settled now, marked
        recovered) and drop every pending Idempotency-Key claim whose owner holds none. Never this
        store's own, nor a live sibling's. A settlement arriving later for a recovered row is
        ignored, as any second settlement is."""
        ...
