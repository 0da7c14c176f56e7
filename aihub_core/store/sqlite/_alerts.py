"""The SQLite store's SQL of usage alerts and their webhook outbox (worker thread only)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from aihub_core.store import rows
from aihub_core.store.outbox import OutboxEntry, OutboxSummary
from aihub_core.store.protocols.alerts import MAX_ALERTS_PER_USER, too_many_alerts
from aihub_core.store.records import AlertDelivery, AlertEvent, AlertRecord
from aihub_core.store.sqlite import _codec as codec
from aihub_core.store.sqlite import _queries as q
from aihub_core.store.sqlite._atomic import atomic
from aihub_core.store.sqlite._sqlite_utils import Database


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
            counted = db.execute(
                "UPDATE users SET alert_count = alert_count + 1 WHERE id = ? AND alert_count < ?",
                [alert.user_id, MAX_ALERTS_PER_USER],
            ).rowcount
            if not counted:  # the user exists (the insert found it): it holds as many as it may
                raise too_many_alerts()
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


def finish_delivery(
    db: Database, event_id: str, delivered_at: str | None, next_at: str, error: str, claimed: str | None
) -> None:
    """Count the attempt, drop the claim, and mark the event delivered or due again; a failure
    with `claimed` only while the event's claim is still that one."""
    sql = (
        "UPDATE alert_events SET attempts = attempts + 1, lease_until = NULL, delivered_at = ?, "
        "next_attempt_at = ?, last_error = ? WHERE id = ? AND delivered_at IS NULL"
    )
    params = [delivered_at, next_at, error[:500], event_id]
    if delivered_at is None and claimed is not None:
        sql += " AND lease_until = ?"
        params.append(claimed)
    with atomic(db):
        db.execute(sql, params)


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


def _entry(row: dict[str, Any]) -> OutboxEntry:
    def when(text: str | None) -> datetime | None:
        return None if text is None else codec.decode_time(text)

    return OutboxEntry(
        event_id=str(row["id"]),
        user_id=str(row["user_id"]),
        user_email=str(row["email"]),
        alert_id=str(row["alert_id"]),
        created_at=codec.decode_time(row["created_at"]),
        attempts=int(row["attempts"]),
        next_attempt_at=when(row["next_attempt_at"]),
        delivered_at=when(row["delivered_at"]),
        last_error=str(row["last_error"]),
    )


def outbox(db: Database, limit: int, include_delivered: bool) -> list[OutboxEntry]:
    """The owed events oldest first, or every event newest first."""
    if include_delivered:
        sql = _OUTBOX + "ORDER BY e.created_at DESC, e.id DESC LIMIT ?"
    else:
        sql = _OUTBOX + f"WHERE {_UNDELIVERED} ORDER BY e.created_at, e.id LIMIT ?"
    return [_entry(row) for row in db.query(sql, [limit])]


def outbox_summary(db: Database) -> OutboxSummary:
    """How many events are owed, and the oldest's time."""
    sql = f"SELECT count(*), min(e.created_at) FROM alert_events e WHERE {_OWED}"
    owed, oldest = db.execute(sql).fetchone()
    return OutboxSummary(int(owed), None if oldest is None else codec.decode_time(oldest))


def retry_deliveries(db: Database, now: str, event_ids: Sequence[str] | None) -> list[str]:
    """Make the undelivered events (all, or those of `event_ids`) due at `now`; the ids made due."""
    sql = f"UPDATE alert_events AS e SET next_attempt_at = ? WHERE {_UNDELIVERED}"
    params: list[str] = [now]
    if event_ids is not None:
        sql += " AND e.id IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(list(event_ids)))
    with atomic(db):
        made_due = db.execute(sql + " RETURNING id", params).fetchall()
    return sorted(str(row[0]) for row in made_due)


def give_up_delivery(
    db: Database, event_id: str, recorded_before: str, error: str, claimed: str | None
) -> bool:
    """End the attempt by giving up on the event if it was recorded before `recorded_before` (and,
    with `claimed`, while its claim is still that one)."""
    sql = (
        "UPDATE alert_events SET attempts = attempts + 1, lease_until = NULL, next_attempt_at = NULL, "
        "last_error = ? WHERE id = ? AND delivered_at IS NULL AND created_at < ?"
    )
    params = [error[:500], event_id, recorded_before]
    if claimed is not None:
        sql += " AND lease_until = ?"
        params.append(claimed)
    with atomic(db):
        changed = db.execute(sql, params).rowcount
    return bool(changed)
