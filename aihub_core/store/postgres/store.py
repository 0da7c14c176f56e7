"""The shared store: PostgreSQL through an asyncpg connection pool.

Every replica of the gateway, on any host, opens one of these on the same database. Reads and
single-statement writes take a pooled connection each; ledger writes go through the group commit
(`_ledger`); migrations run once under an advisory lock (`migrations`); the store's lease and
recovery are `_leases`'. docs/postgres.md has the settings and why asyncpg.

The class is put together from one mixin per concept (`methods/`) over the connection
(`_connection`): the pool, opening and closing, the lease and recovery.
"""

from __future__ import annotations

from aihub_core.store.postgres.methods.accounts import PostgresAccounts
from aihub_core.store.postgres.methods.alerts import PostgresAlerts
from aihub_core.store.postgres.methods.idempotency import PostgresIdempotency
from aihub_core.store.postgres.methods.keys import PostgresKeys
from aihub_core.store.postgres.methods.ledger import PostgresLedger
from aihub_core.store.postgres.methods.outbox import PostgresOutbox
from aihub_core.store.postgres.methods.reports import PostgresReports
from aihub_core.store.postgres.methods.sessions import PostgresSessions


class PostgresStore(
    PostgresAccounts,
    PostgresKeys,
    PostgresSessions,
    PostgresLedger,
    PostgresReports,
    PostgresAlerts,
    PostgresOutbox,
    PostgresIdempotency,
):
    """`base.Store` on a PostgreSQL database, shared by every process and host pointed at it."""
