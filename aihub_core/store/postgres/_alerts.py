"""The PostgreSQL store's SQL of usage alerts and their webhook outbox."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import asyncpg

from aihub_core.store import rows
from aihub_core.store.base import AlertDelivery, AlertEvent, AlertRecord
from aihub_core.store.postgres._queries import insert_sql, translate

if TYPE_CHECKING:
    from aihub_core.store.postgres._queries import Conn


def _alert(row: asyncpg.Record) -> AlertRecord:
    return AlertRecord(
        id=row["id"],
        user_id=row["user_id"],
        name=row["name"],
        metric=row["metric"],
        threshold=float(row["threshold"]),
        of=row["relative_to"],
        amount=int(row["amount"]),
        period=row["period"],
        created_at=row["created_at"],
        last_fired_at=row["last_fired_at"],
    )


async def create_alert(conn: Conn, alert: AlertRecord) -> None:
    """Insert the alert and count it on its user, in one transaction."""
    row = rows.alert_row(alert)
    try:
        async with conn.transaction():
            await conn.execute(insert_sql("alerts", list(row)), *row.values())
            await conn.execute("UPDATE users SET alert_count = alert_count + 1 WHERE id = $1", alert.user_id)
    except asyncpg.PostgresError as exc:
        raise translate(exc, conflict="an alert with this id already exists") from None


async def list_alerts(conn: Conn, user_id: str) -> list[AlertRecord]:
    """The user's alerts, oldest first."""
    sql = "SELECT * FROM alerts WHERE user_id = $1 ORDER BY created_at, id"
    return [_alert(row) for row in await conn.fetch(sql, user_id)]


async def delete_alert(conn: Conn, user_id: str, alert_id: str) -> bool:
    """Delete the alert and uncount it; False if the user has none of this id."""
    async with conn.transaction():
        deleted = await conn.fetchval(
            "DELETE FROM alerts WHERE id = $1 AND user_id = $2 RETURNING id", alert_id, user_id
        )
        if deleted is not None:
            await conn.execute("UPDATE users SET alert_count = alert_count - 1 WHERE id = $1", user_id)
    return deleted is not None


async def fire_alert(conn: Conn, event: AlertEvent) -> bool:
    """Record the crossing unless its alert already fired in the period; True if recorded."""
    row = rows.alert_event_row(event)
    sql = insert_sql("alert_events", list(row), "ON CONFLICT (alert_id, period_key) DO NOTHING RETURNING id")
    async with conn.transaction():
        if await conn.fetchval(sql, *row.values()) is None:
            return False
        await conn.execute(
            "UPDATE alerts SET last_fired_at = $1 WHERE id = $2", row["created_at"], event.alert_id
        )
    return True


async def alert_events(conn: Conn, user_id: str, since: datetime) -> list[AlertEvent]:
    """The user's events recorded at or after `since`, oldest first."""
    sql = "SELECT * FROM alert_events WHERE user_id = $1 AND created_at >= $2 ORDER BY created_at, id"
    return [
        AlertEvent(
            id=row["id"],
            alert_id=row["alert_id"],
            user_id=row["user_id"],
            period_key=row["period_key"],
            payload=row["payload"],
            created_at=row["created_at"],
            deliver=row["next_attempt_at"] is not None,
        )
        for row in await conn.fetch(sql, user_id, rows.utc(since))
    ]


# SKIP LOCKED: replicas claiming at the same moment each take other rows, none waits.
_CLAIM = """
UPDATE alert_events SET lease_until = $2 WHERE id IN (
    SELECT id FROM alert_events
    WHERE delivered_at IS NULL AND next_attempt_at IS NOT NULL AND next_attempt_at <= $1
      AND (lease_until IS NULL OR lease_until < $1)
    ORDER BY next_attempt_at, id LIMIT $3
    FOR UPDATE SKIP LOCKED
) RETURNING id, payload, attempts
"""


async def claim_deliveries(conn: Conn, now: datetime, until: datetime, limit: int) -> list[AlertDelivery]:
    """Claim due, unclaimed events for delivery."""
    claimed = await conn.fetch(_CLAIM, rows.utc(now), rows.utc(until), limit)
    deliveries = [AlertDelivery(row["id"], row["payload"], int(row["attempts"])) for row in claimed]
    return sorted(deliveries, key=lambda d: d.event_id)


async def finish_delivery(
    conn: Conn, event_id: str, delivered_at: datetime | None, next_at: datetime, error: str
) -> None:
    """Count the attempt, drop the claim, and mark the event delivered or due again."""
    await conn.execute(
        "UPDATE alert_events SET attempts = attempts + 1, lease_until = NULL, delivered_at = $1, "
        "next_attempt_at = $2, last_error = $3 WHERE id = $4 AND delivered_at IS NULL",
        None if delivered_at is None else rows.utc(delivered_at),
        rows.utc(next_at),
        error[:500],
        event_id,
    )
