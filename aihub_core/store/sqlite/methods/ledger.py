"""The SQLite store's ledger writes (`protocols.ledger`): reservations and settlements."""

from __future__ import annotations

import functools
import logging
from concurrent.futures import Future

from aihub_core.store.records import UsageRecord
from aihub_core.store.sqlite import _ledger
from aihub_core.store.sqlite._connection import SQLiteConnection

log = logging.getLogger("aihub.store")


class SQLiteLedger(SQLiteConnection):
    """`LedgerStore` on SQLite."""

    def queue_reservation(self, record: UsageRecord) -> None:
        """Queue the pending row of an admitted call and return at once (see the Protocol)."""
        write = functools.partial(_ledger.reserve_usage, record=record, owner=self._owner)
        done = self._queue_write(self._reservations, write)
        done.add_done_callback(_log_lost_reservation)

    async def reserve_usage(self, record: UsageRecord) -> None:
        """Write the pending row of an admitted call; an id already in the ledger is left alone."""
        write = functools.partial(_ledger.reserve_usage, record=record, owner=self._owner)
        await self._group_write(self._reservations, write)

    async def record_usage(self, record: UsageRecord) -> None:
        """Settle a call once (its pending row, or a new row); returns once committed."""
        await self._write_ledger(_ledger.record_usage, record)


def _log_lost_reservation(done: Future[None]) -> None:
    error = done.exception()
    if error is not None:
        log.error("a usage reservation was not written (its settlement records the call)", exc_info=error)
