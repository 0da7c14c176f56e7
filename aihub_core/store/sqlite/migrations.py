"""Forward-only schema migrations for the SQLite store, versioned by `PRAGMA user_version`.

Each migration runs in its own transaction together with the version bump, so a failure leaves
the database at the previous version. A database newer than this code is refused rather than
guessed at: an older binary writing to a newer schema is how ledgers get corrupted.
"""

from __future__ import annotations

from collections.abc import Sequence

from aihub_core.store.base import SchemaTooNewError
from aihub_core.store.sqlite._sqlite_utils import Database
from aihub_core.store.sqlite.versions import MIGRATIONS, Migration

__all__ = [
    "MIGRATIONS",
    "Migration",
    "SchemaTooNewError",
    "apply_migrations",
    "current_version",
    "latest_version",
]


def latest_version(migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """The schema version the given migrations lead to."""
    return migrations[-1].version if migrations else 0


def current_version(db: Database) -> int:
    """The schema version recorded in the database file (0 for a new one)."""
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def apply_migrations(db: Database, migrations: Sequence[Migration] = MIGRATIONS) -> list[int]:
    """Apply pending migrations, one transaction each; return the versions applied."""
    _check_sequence(migrations)
    latest = latest_version(migrations)
    _refuse_newer(current_version(db), latest)
    applied: list[int] = []
    for migration in migrations:
        if current_version(db) >= migration.version:
            continue
        # IMMEDIATE takes the write lock before the version is re-read, so two processes
        # opening the same new file cannot both apply the same step.
        db.execute("BEGIN IMMEDIATE")
        try:
            version = current_version(db)
            _refuse_newer(version, latest)
            if version < migration.version:
                if isinstance(migration.step, str):
                    db.executescript(migration.step)
                else:
                    migration.step(db)
                db.execute(f"PRAGMA user_version = {int(migration.version)}")
                applied.append(migration.version)
            db.execute("COMMIT")
        except BaseException:
            db.rollback()
            raise
    return applied


def _refuse_newer(version: int, latest: int) -> None:
    if version > latest:
        raise SchemaTooNewError(
            f"the database schema is at version {version}, but this AI Hub only knows versions up "
            f"to {latest}: upgrade AI Hub, or point it at another database"
        )


def _check_sequence(migrations: Sequence[Migration]) -> None:
    # A gap or reordering would silently skip a step on some databases and not others.
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise ValueError(
                f"migration versions must run 1, 2, 3, ...: got {migration.version} at {expected}"
            )
