"""How the SQLite store runs its SQL: the helpers of its query modules (`_users`, `_keys`, `_ledger`,
`_reports`, `_alerts`, `_idempotency`, `_logs`), each a plain function of a sqlite-utils `Database`.

They block, so only `SQLiteStore`'s worker thread calls them. Constraint failures a caller can
cause are translated here, once, to the core's errors.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from aihub_core.errors import ConflictError, NotFoundError
from aihub_core.store.sqlite._sqlite_utils import Database

Params = list[Any] | dict[str, Any]


def one(db: Database, sql: str, params: Params) -> dict[str, Any] | None:
    """The first row a query returns, or None; the query is read to its end."""
    # Read to the end, so the statement is finished (and its read snapshot let go) right here.
    rows = list(db.query(sql, params))
    return rows[0] if rows else None


def changed(db: Database, sql: str, params: Params) -> bool:
    """Run a write; whether it changed any row."""
    return int(db.execute(sql, params).rowcount) > 0


def insert(db: Database, table: str, row: dict[str, Any], suffix: str = "") -> int:
    """Insert a row (`suffix`: an ON CONFLICT clause); how many rows it inserted or changed."""
    key = (table, suffix, tuple(row))
    sql = _INSERTS.get(key)
    if sql is None:
        # Table and column names come from this package and `rows`, never from callers.
        columns = ", ".join(row)
        values = ", ".join("?" for _ in row)
        sql = _INSERTS[key] = f"INSERT INTO {table} ({columns}) VALUES ({values}) {suffix}"
    # Positional: binding by name looks every parameter's name up, in SQLite and in the dict.
    return int(db.execute(sql, tuple(row.values())).rowcount)


# (table, suffix, columns) -> the INSERT statement: a few dozen, one per way the store inserts.
_INSERTS: dict[tuple[str, str, tuple[str, ...]], str] = {}


def translate(exc: sqlite3.IntegrityError, conflict: str = "") -> Exception:
    """The core error for a constraint failure a caller can cause; any other stays as it is."""
    if exc.sqlite_errorname == "SQLITE_CONSTRAINT_FOREIGNKEY":
        return NotFoundError("no such user")
    if conflict and exc.sqlite_errorname in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"):
        return ConflictError(conflict)
    return exc
