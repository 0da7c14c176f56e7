"""The SQLite store's SQL of leases and recovery (worker thread only, like `_queries`).

Each runs in one BEGIN IMMEDIATE transaction: SQLite has one writer at a time, so two stores
recovering at once take turns, and the second finds nothing left to do.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timedelta

from aihub_core.store import leases
from aihub_core.store.records import Recovered
from aihub_core.store.sqlite import _codec as codec
from aihub_core.store.sqlite._sqlite_utils import Database

# Pending work whose owner holds no lease: ended, expired and ended, or never taken (rows of a
# version before leases, owner NULL).
_ABANDONED = "(owner IS NULL OR owner NOT IN (SELECT owner FROM leases))"


@contextlib.contextmanager
def _immediate(db: Database) -> Iterator[None]:
    # IMMEDIATE: the write lock before the first read, so what is read is still true when written.
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.rollback()
        raise
    db.execute("COMMIT")


def renew(db: Database, owner: str, now: datetime, seconds: float, machine: str | None, pid: int) -> bool:
    """Extend the lease to now + seconds; True if it was held, False if it was taken anew."""
    expires = codec.encode_time(now + timedelta(seconds=seconds))
    with _immediate(db):
        held = db.execute("UPDATE leases SET expires_at = ? WHERE owner = ?", [expires, owner]).rowcount
        if not held:
            db.execute(
                "INSERT INTO leases (owner, expires_at, machine, pid) VALUES (?, ?, ?, ?)",
                [owner, expires, machine, pid],
            )
    return bool(held)


def end(db: Database, owner: str) -> None:
    """End the lease: what its store left pending is abandoned from now on."""
    with _immediate(db):
        db.execute("DELETE FROM leases WHERE owner = ?", [owner])


def recover(db: Database, owner: str, now: datetime, machine: str | None) -> Recovered:
    """End the leases that expired or whose process is gone (never `owner`'s), then settle and
    free everything abandoned, in one transaction."""
    at = codec.encode_time(now)
    with _immediate(db):
        local = db.execute("SELECT owner, pid FROM leases WHERE machine = ? AND owner != ?", [machine, owner])
        dead = leases.gone(local.fetchall()) if machine is not None else []
        marks = ", ".join("?" for _ in dead) or "NULL"
        ended = db.execute(
            f"DELETE FROM leases WHERE owner != ? AND (expires_at < ? OR owner IN ({marks})) RETURNING owner",
            [owner, at, *dead],
        ).fetchall()
        # The rollup's trigger counts each row turning from pending to error.
        settled = db.execute(
            "UPDATE usage_records SET status = 'error', prompt_tokens = 0, completion_tokens = 0, "
            "cost_pico_usd = 0, usage_source = 'none', settled_at = ?, recovered = 1 "
            f"WHERE status = 'pending' AND {_ABANDONED}",
            [at],
        ).rowcount
        freed = db.execute(f"DELETE FROM idempotency_keys WHERE state = 'pending' AND {_ABANDONED}").rowcount
    return Recovered(int(settled), int(freed), tuple(sorted(str(row[0]) for row in ended)))
