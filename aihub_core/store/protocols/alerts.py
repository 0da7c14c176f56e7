"""Usage alerts and their webhook outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from aihub_core.errors import InvalidRequestError
from aihub_core.store.records import AlertDelivery, AlertEvent, AlertRecord

MAX_ALERTS_PER_USER = 50
"""How many alerts a user may hold: `create_alert` refuses one more in its own transaction."""


def too_many_alerts() -> InvalidRequestError:
    """The 400 `too_many_alerts` of a user who holds `MAX_ALERTS_PER_USER` alerts already."""
    return InvalidRequestError(
        f"An account may hold at most {MAX_ALERTS_PER_USER} alerts; delete one first",
        code="too_many_alerts",
    )


class AlertStore(Protocol):
    """Users' usage alerts, their crossings, and the outbox that delivers them."""

    async def create_alert(self, alert: AlertRecord) -> None:
        """Insert an alert and count it in its user's `alert_count` (which moves the auth
        generation); NotFoundError for an unknown user, ConflictError for a duplicate id, and
        `too_many_alerts` (nothing written) if the user holds `MAX_ALERTS_PER_USER` already:
        checked in the insert's transaction, so however many creates run at once."""
        ...

    async def list_alerts(self, user_id: str) -> list[AlertRecord]:
        """The user's alerts, oldest first (ties by id)."""
        ...

    async def delete_alert(self, user_id: str, alert_id: str) -> bool:
        """Delete one of the user's alerts and uncount it; False if the user has no such alert.
        Its events already recorded stay, and those still to be delivered are delivered."""
        ...

    async def fire_alert(self, event: AlertEvent) -> bool:
        """Record a crossing and set its alert's `last_fired_at` to the event's time, unless the
        alert already fired in that period: exactly one event per (alert_id, period_key) however
        many stores try at once. True if this call recorded it."""
        ...

    async def alert_events(self, user_id: str, since: datetime) -> list[AlertEvent]:
        """The user's events recorded at or after a moment, oldest first."""
        ...

    async def claim_alert_deliveries(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[AlertDelivery]:
        """Claim up to `limit` undelivered events to deliver whose next attempt is due by `now` and
        that no live claim holds (a claim lasts until `lease_until`, so one left by a process
        that died is taken again after it): each claimed by one store at a time, oldest first."""
        ...

    async def finish_alert_delivery(
        self,
        event_id: str,
        delivered_at: datetime | None,
        next_attempt_at: datetime,
        error: str,
        *,
        claimed: datetime | None = None,
    ) -> None:
        """End an attempt: count it, drop the claim, and mark the event delivered (`delivered_at`)
        or due again at `next_attempt_at` with its `error`. An event already delivered stays so.
        A failure (`delivered_at` None) with `claimed`, the `lease_until` its claim set, changes
        the event only while that claim still holds it: a late failure of an attempt whose claim
        lapsed and was taken again leaves the new claim alone. A delivery is marked whoever holds
        the claim (so the other attempt need not send it again)."""
        ...
