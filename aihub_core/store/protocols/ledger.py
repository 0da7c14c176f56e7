"""The usage ledger's writes: a call reserved when admitted, settled once."""

from __future__ import annotations

from typing import Protocol

from aihub_core.store.records import UsageRecord


class LedgerStore(Protocol):
    """Reservations and settlements of the usage ledger."""

    def queue_reservation(self, record: UsageRecord) -> None:
        """Queue what `reserve_usage` writes and return at once: for a caller that need not wait
        for it before calling the provider. The row is written before any later write this store
        makes for the same request id (so before the call's settlement), and by the time `close`
        returns; a failure is logged, and the settlement still records the call (it inserts the
        row when none was reserved)."""
        ...

    async def reserve_usage(self, record: UsageRecord) -> None:
        """Write the `pending` row of an admitted call, tagged with the store's owner; an id already
        in the ledger is left alone. ValueError unless the record is `pending`; NotFoundError for
        an unknown user. The row counts against the quota (`count_requests`) at once."""
        ...

    async def record_usage(self, record: UsageRecord) -> None:
        """Settle a call: turn its pending row into this record (or insert it if there is none).
        The row keeps the moment it was reserved (`created_at`) and the reservation's key; the
        record's time is when it was settled (`settled_at`); its other fields fill in the row.
        A settled row is never changed: a second settlement of the same request id is ignored,
        and so is one naming another user than the reservation's. ValueError for a `pending`
        record; NotFoundError for an unknown user. The call returns once the record is
        committed, as durably as the store's `Durability` says."""
        ...
