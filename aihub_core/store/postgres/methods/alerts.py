"""The PostgreSQL store's usage alerts and their outbox (`protocols.alerts`)."""

from __future__ import annotations

from datetime import datetime

from aihub_core.store.postgres import _alerts
from aihub_core.store.postgres._connection import PostgresConnection
from aihub_core.store.records import AlertDelivery, AlertEvent, AlertRecord


class PostgresAlerts(PostgresConnection):
    """`AlertStore` on PostgreSQL."""

    async def create_alert(self, alert: AlertRecord) -> None:
        """Insert an alert and count it on its user (see the Protocol)."""
        await self._call(_alerts.create_alert, alert)

    async def list_alerts(self, user_id: str) -> list[AlertRecord]:
        """The user's alerts, oldest first."""
        return await self._call(_alerts.list_alerts, user_id)

    async def delete_alert(self, user_id: str, alert_id: str) -> bool:
        """Delete one of the user's alerts; False if there is none of this id."""
        return await self._call(_alerts.delete_alert, user_id, alert_id)

    async def fire_alert(self, event: AlertEvent) -> bool:
        """Record a crossing once per alert and period; True if this call recorded it."""
        return await self._call(_alerts.fire_alert, event)

    async def alert_events(self, user_id: str, since: datetime) -> list[AlertEvent]:
        """The user's events recorded at or after a moment, oldest first."""
        return await self._call(_alerts.alert_events, user_id, since)

    async def claim_alert_deliveries(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[AlertDelivery]:
        """Claim due events for delivery (see the Protocol)."""
        return await self._call(_alerts.claim_deliveries, now, lease_until, limit)

    async def finish_alert_delivery(
        self,
        event_id: str,
        delivered_at: datetime | None,
        next_attempt_at: datetime,
        error: str,
        *,
        claimed: datetime | None = None,
    ) -> None:
        """End a delivery attempt (see the Protocol)."""
        await self._call(_alerts.finish_delivery, event_id, delivered_at, next_attempt_at, error, claimed)
