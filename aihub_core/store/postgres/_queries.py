"""How the PostgreSQL store runs its SQL outside the ledger's group commit: the connection type
and the helpers of its query modules (`_users`, `_keys`, `_sessions`, `_reports`, `_idempotency`,
`_alerts`, `_logs`, `_leases`), each a plain async function of a pooled connection. Constraint
failures a caller can cause are translated here (`translate`), once, to the core's errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeAlias

import asyncpg

from aihub_core.errors import ConflictError, NotFoundError
from aihub_core.store import rows

if TYPE_CHECKING:
    # A pooled connection (the stubs' generic; asyncpg's class is not subscriptable at run time).
    Conn: TypeAlias = asyncpg.pool.PoolConnectionProxy[asyncpg.Record]
BILLABLE_SQL = "status IN ({})".format(", ".join(f"'{s}'" for s in rows.BILLABLE))


def translate(exc: asyncpg.PostgresError, conflict: str = "") -> Exception:
    """The core error for a constraint failure a caller can cause; any other stays as it is."""
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        return NotFoundError("no such user")
    if conflict and isinstance(exc, asyncpg.UniqueViolationError):
        return ConflictError(conflict)
    return exc


def insert_sql(table: str, columns: Sequence[str], suffix: str = "") -> str:
    """INSERT of one row with $1.. parameters (names come from this package and `rows`)."""
    marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) {suffix}"


def changed(status: str) -> bool:
    """Whether a command changed any row, from its tag."""
    # asyncpg returns the command tag: "UPDATE 1".
    return int(status.rsplit(" ", 1)[-1]) > 0
