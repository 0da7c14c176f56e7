"""The PostgreSQL store's SQL of usage alerts and their webhook outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import asyncpg

from aihub_core.store import rows
from aihub_core.store.outbox import OutboxEntry, OutboxSummary
from aihub_core.store.postgres._queries import insert_sql, translate
from aihub_core.store.protocols.alerts import MAX_ALERTS_PER_USER, too_many_alerts
from aihub_core.store.records import AlertDelivery, AlertEvent, AlertRecord

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
            counted = await conn.fetchval(
                "UPDATE users SET alert_count = alert_count + 1 WHERE id = $1 AND alert_count < $2 "
                "RETURNING id",
                alert.user_id,
                MAX_ALERTS_PER_USER,
            )
            if counted is None:  # the user exists (the insert found it): it holds as many as it may
                raise too_many_alerts()
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
    conn: Conn,
    event_id: str,
    delivered_at: datetime | None,
    next_at: datetime,
    error: str,
    claimed: datetime | None,
) -> None:
    """Count the attempt, drop the claim, and mark the event delivered or due again; a failure
    with `claimed` only while the event's claim is still that one."""
    only_ours = delivered_at is None and claimed is not None
    await conn.execute(
        "UPDATE alert_events SET attempts = attempts + 1, lease_until = NULL, delivered_at = $1, "
        "next_attempt_at = $2, last_error = $3 WHERE id = $4 AND delivered_at IS NULL "
        "AND ($5::timestamptz IS NULL OR lease_until = $5)",
        None if delivered_at is None else rows.utc(delivered_at),
        rows.utc(next_at),
        error[:500],
        event_id,
        rows.utc(claimed) if only_ours and claimed is not None else None,
    )


# The outbox as the operator sees it (`store.outbox`). Owed: undelivered and to deliver (the
# partial index alert_events_due holds exactly these rows). Undelivered: owed, or given up (no
# next attempt, but attempts made; an event recorded with no webhook has none).
_OWED = "e.delivered_at IS NULL AND e.next_attempt_at IS NOT NULL"
_UNDELIVERED = "e.delivered_at IS NULL AND (e.next_attempt_at IS NOT NULL OR e.attempts > 0)"
_OUTBOX = """
SELECT e.id, e.user_id, COALESCE(u.email, '') AS email, e.alert_id, e.created_at, e.attempts,
       e.next_attempt_at, e.delivered_at, e.last_error
FROM alert_events e LEFT JOIN users u ON u.id = e.user_id
"""


def _entry(row: asyncpg.Record) -> OutboxEntry:
    return OutboxEntry(
        event_id=row["id"],
        user_id=row["user_id"],
        user_email=row["email"],
        alert_id=row["alert_id"],
        created_at=row["created_at"],
        attempts=int(row["attempts"]),
        next_attempt_at=row["next_attempt_at"],
        delivered_at=row["delivered_at"],
        last_error=row["last_error"],
    )


async def outbox(conn: Conn, limit: int, include_delivered: bool) -> list[OutboxEntry]:
    """The owed events oldest first, or every event newest first."""
    if include_delivered:
        sql = _OUTBOX + "ORDER BY e.created_at DESC, e.id DESC LIMIT $1"
    else:
        sql = _OUTBOX + f"WHERE {_UNDELIVERED} ORDER BY e.created_at, e.id LIMIT $1"
    return [_entry(row) for row in await conn.fetch(sql, limit)]


async def outbox_summary(conn: Conn) -> OutboxSummary:
    """How many events are owed, and the oldest's time."""
    row = await conn.fetchrow(
        f"SELECT count(*) AS owed, min(e.created_at) AS oldest FROM alert_events e WHERE {_OWED}"
    )
    assert row is not None
    return OutboxSummary(int(row["owed"]), row["oldest"])


async def retry_deliveries(conn: Conn, now: datetime, event_ids: Sequence[str] | None) -> list[str]:
    """Make the undelivered events (all, or those of `event_ids`) due at `now`; the ids made due."""
    sql = f"UPDATE alert_events AS e SET next_attempt_at = $1 WHERE {_UNDELIVERED}"
    if event_ids is None:
        made_due = await conn.fetch(sql + " RETURNING id", rows.utc(now))
    else:
        made_due = await conn.fetch(
            sql + " AND e.id = ANY($2::text[]) RETURNING id", rows.utc(now), list(event_ids)
        )
    return sorted(row["id"] for row in made_due)


async def give_up_delivery(
    conn: Conn, event_id: str, recorded_before: datetime, error: str, claimed: datetime | None
) -> bool:
    """End the attempt by giving up on the event if it was recorded before `recorded_before` (and,
    with `claimed`, while its claim is still that one)."""
    changed = await conn.fetchval(
        "UPDATE alert_events SET attempts = attempts + 1, lease_until = NULL, next_attempt_at = NULL, "
        "last_error = $1 WHERE id = $2 AND delivered_at IS NULL AND created_at < $3 "
        "AND ($4::timestamptz IS NULL OR lease_until = $4) RETURNING id",
        error[:500],
        event_id,
        rows.utc(recorded_before),
        None if claimed is None else rows.utc(claimed),
    )
    return changed is not None
