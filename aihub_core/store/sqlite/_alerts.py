"""The SQLite store's SQL of usage alerts and their webhook outbox (worker thread only)."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlite_utils import Database

from aihub_core.store import rows
from aihub_core.store.base import AlertDelivery, AlertEvent, AlertRecord
from aihub_core.store.sqlite import _codec as codec
from aihub_core.store.sqlite import _queries as q
from aihub_core.store.sqlite._atomic import atomic


def _alert(row: dict[str, Any]) -> AlertRecord:
    fired = row["last_fired_at"]
    return AlertRecord(
        id=str(row["id"]),
        user_id=str(row["user_id"]),
        name=str(row["name"]),
        metric=str(row["metric"]),
        threshold=float(row["threshold"]),
        of=str(row["relative_to"]),
        amount=int(row["amount"]),
        period=str(row["period"]),
        created_at=codec.decode_time(row["created_at"]),
        last_fired_at=None if fired is None else codec.decode_time(fired),
    )


def create_alert(db: Database, alert: AlertRecord) -> None:
    """Insert the alert and count it on its user, in one transaction."""
    row = codec.to_sqlite(rows.alert_row(alert))
    try:
        with atomic(db):
            q.insert(db, "alerts", row)
            db.execute("UPDATE users SET alert_count = alert_count + 1 WHERE id = ?", [alert.user_id])
    except sqlite3.IntegrityError as exc:
        raise q.translate(exc, conflict="an alert with this id already exists") from None


def list_alerts(db: Database, user_id: str) -> list[AlertRecord]:
    """The user's alerts, oldest first."""
    sql = "SELECT * FROM alerts WHERE user_id = ? ORDER BY created_at, id"
    return [_alert(row) for row in db.query(sql, [user_id])]


def delete_alert(db: Database, user_id: str, alert_id: str) -> bool:
    """Delete the alert and uncount it; False if the user has none of this id."""
    with atomic(db):
        deleted = db.execute("DELETE FROM alerts WHERE id = ? AND user_id = ?", [alert_id, user_id]).rowcount
        if deleted:
            db.execute("UPDATE users SET alert_count = alert_count - 1 WHERE id = ?", [user_id])
    return bool(deleted)


def fire_alert(db: Database, event: AlertEvent) -> bool:
    """Record the crossing unless its alert already fired in the period; True if recorded."""
    row = codec.to_sqlite(rows.alert_event_row(event))
    with atomic(db):
        if not q.insert(db, "alert_events", row, "ON CONFLICT (alert_id, period_key) DO NOTHING"):
            return False
        db.execute("UPDATE alerts SET last_fired_at = ? WHERE id = ?", [row["created_at"], event.alert_id])
    return True


def alert_events(db: Database, user_id: str, since: str) -> list[AlertEvent]:
    """The user's events recorded at or after `since`, oldest first."""
    sql = "SELECT * FROM alert_events WHERE user_id = ? AND created_at >= ? ORDER BY created_at, id"
    return [
        AlertEvent(
            id=str(row["id"]),
            alert_id=str(row["alert_id"]),
            user_id=str(row["user_id"]),
            period_key=str(row["period_key"]),
            payload=str(row["payload"]),
            created_at=codec.decode_time(row["created_at"]),
            deliver=row["next_attempt_at"] is not None,
        )
        for row in db.query(sql, [user_id, since])
    ]


# One statement, so a claim is atomic between processes sharing the file.
_CLAIM = """
UPDATE alert_events SET lease_until = :until WHERE id IN (
    SELECT id FROM alert_events
    WHERE delivered_at IS NULL AND next_attempt_at IS NOT NULL AND next_attempt_at <= :now
      AND (lease_until IS NULL OR lease_until < :now)
    ORDER BY next_attempt_at, id LIMIT :limit
) RETURNING id, payload, attempts
"""


def claim_deliveries(db: Database, now: str, until: str, limit: int) -> list[AlertDelivery]:
    """Claim due, unclaimed events for delivery, oldest due first."""
    with atomic(db):
        claimed = db.execute(_CLAIM, {"now": now, "until": until, "limit": limit}).fetchall()
    deliveries = [AlertDelivery(str(row[0]), str(row[1]), int(row[2])) for row in claimed]
    return sorted(deliveries, key=lambda d: d.event_id)


def finish_delivery(db: Database, event_id: str, delivered_at: str | None, next_at: str, error: str) -> None:
    """Count the attempt, drop the claim, and mark the event delivered or due again."""
    with atomic(db):
        db.execute(
            "UPDATE alert_events SET attempts = attempts + 1, lease_until = NULL, delivered_at = ?, "
            "next_attempt_at = ?, last_error = ? WHERE id = ? AND delivered_at IS NULL",
            [delivered_at, next_at, error[:500], event_id],
        )
