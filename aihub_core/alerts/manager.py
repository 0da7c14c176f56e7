"""Alerts for their owner: create, list with their current figures, delete; and the crossings a
WatchQuota stream shows."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aihub_core.alerts.checker import AlertChecker, observed
from aihub_core.alerts.rules import AlertSpec, Measure, checked, measure
from aihub_core.errors import NotFoundError
from aihub_core.identity import Caller
from aihub_core.store.base import AlertEvent, AlertRecord, Store


@dataclass(frozen=True)
class AlertView:
    """An alert with what it measures now: its limit and period, and the figure so far."""

    alert: AlertRecord
    measure: Measure
    observed: int


def new_alert_id() -> str:
    """An alert id: `alert_` and 24 hex digits."""
    return "alert_" + secrets.token_hex(12)


class AlertManager:
    """The caller's own usage alerts."""

    def __init__(
        self, store: Store, checker: AlertChecker, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._store = store
        self._checker = checker
        self._now = now

    async def create(self, caller: Caller, spec: AlertSpec) -> AlertView:
        """A new alert (a 400 naming the field for a meaningless one, `too_many_alerts` from the
        store past MAX_ALERTS_PER_USER); checked at once, so an account already past the
        threshold hears of it now."""
        threshold, of, amount, period = checked(spec, caller)
        record = AlertRecord(
            new_alert_id(),
            caller.user_id,
            spec.name.strip(),
            spec.metric,
            threshold,
            of,
            amount,
            period,
            self._now(),
        )
        await self._store.create_alert(record)
        self._checker.check_soon(caller)
        return (await self._views(caller, [record]))[0]

    async def all(self, caller: Caller) -> list[AlertView]:
        """The caller's alerts, oldest first, each with its figures now."""
        return await self._views(caller, await self._store.list_alerts(caller.user_id))

    async def delete(self, caller: Caller, alert_id: str) -> None:
        """Delete one of the caller's alerts (a 404 if there is none of this id)."""
        if not alert_id or not await self._store.delete_alert(caller.user_id, alert_id):
            raise NotFoundError(f"No alert {alert_id!r}", code="alert_not_found", param="alert_id")

    async def events(self, caller: Caller, since: datetime) -> list[AlertEvent]:
        """The caller's crossings recorded since a moment, oldest first."""
        return await self._store.alert_events(caller.user_id, since)

    async def _views(self, caller: Caller, alerts: list[AlertRecord]) -> list[AlertView]:
        now = self._now()
        figures: dict[tuple[str, datetime], int] = {}
        views = []
        for alert in alerts:
            seen = measure(alert, caller, now)
            key = (alert.metric, seen.start)
            if key not in figures:
                figures[key] = await observed(self._store, caller.user_id, alert.metric, seen.start, now)
            views.append(AlertView(alert, seen, figures[key]))
        return views
