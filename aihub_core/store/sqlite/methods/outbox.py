"""The SQLite store's side of the alert outbox for its operator (`store.outbox.AlertOutbox`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from aihub_core.store.outbox import OutboxEntry, OutboxSummary, check_limit
from aihub_core.store.sqlite import _alerts
from aihub_core.store.sqlite import _codec as codec
from aihub_core.store.sqlite._connection import SQLiteConnection


class SQLiteOutbox(SQLiteConnection):
    """`AlertOutbox` on SQLite: each a call on its worker thread."""

    async def alert_outbox(self, limit: int, *, include_delivered: bool = False) -> list[OutboxEntry]:
        """The owed events, or the most recent of all (see the Protocol)."""
        check_limit(limit)
        return await self._call(_alerts.outbox, limit, include_delivered)

    async def alert_outbox_summary(self) -> OutboxSummary:
        """The owed events' count and the oldest's time."""
        return await self._call(_alerts.outbox_summary)

    async def retry_alert_deliveries(self, now: datetime, event_ids: Sequence[str] | None) -> list[str]:
        """Make owed events due now (see the Protocol)."""
        return await self._call(_alerts.retry_deliveries, codec.encode_time(now), event_ids)

    async def give_up_alert_delivery(
        self, event_id: str, recorded_before: datetime, error: str, *, claimed: datetime | None = None
    ) -> bool:
        """Give up on an event recorded before a moment (see the Protocol)."""
        encode = codec.encode_time
        held = None if claimed is None else encode(claimed)
        return await self._call(_alerts.give_up_delivery, event_id, encode(recorded_before), error, held)
