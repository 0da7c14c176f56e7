"""The PostgreSQL store's ledger writes (`protocols.ledger`): reservations and settlements."""

from __future__ import annotations

import logging
from concurrent.futures import Future

from aihub_core.store import rows
from aihub_core.store.postgres._connection import PostgresConnection
from aihub_core.store.postgres._ledger import Reservation, Settlement
from aihub_core.store.records import UsageRecord

log = logging.getLogger("aihub.store")


class PostgresLedger(PostgresConnection):
    """`LedgerStore` on PostgreSQL."""

    def queue_reservation(self, record: UsageRecord) -> None:
        """Queue the pending row of an admitted call and return at once (see the Protocol)."""
        done = self._put(Reservation(rows.reservation_row(record, self._owner)))
        done.add_done_callback(_log_lost_reservation)

    async def reserve_usage(self, record: UsageRecord) -> None:
        """Write the pending row of an admitted call; an id already in the ledger is left alone."""
        await self._write(Reservation(rows.reservation_row(record, self._owner)))

    async def record_usage(self, record: UsageRecord) -> None:
        """Settle a call once (its pending row, or a new row); returns once committed."""
        await self._write(Settlement(rows.settled_row(record)), record.request_id)


def _log_lost_reservation(done: Future[None]) -> None:
    error = done.exception()
    if error is not None:
        log.error("a usage reservation was not written (its settlement records the call)", exc_info=error)
