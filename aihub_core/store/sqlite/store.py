"""The embedded store: one SQLite file in WAL mode, driven through sqlite-utils.

SQLite calls block, so the connection lives on one dedicated worker thread (`_worker`: jobs run
one at a time, in order) and every call is awaited through it. One thread also serialises this
process's writes, which is what SQLite wants anyway (one writer at a time), and lets
`check_same_thread` keep its safe default.

Usage ledger writes go through a group commit (`_group`): writes that queue while the worker is
busy share one transaction. Settlements commit at the `synchronous` level of the store's
`Durability` (FULL for DURABLE: a settled record survives a power cut, not only a killed
process; NORMAL for DEFERRED), and their callers resume only once committed. Reservations have
batches of their own at NORMAL, and `queue_reservation` does not wait at all: the worker runs
jobs in order, so a reservation lands before any call made after it, its settlement included.
docs/accounting.md has the policy and the measurements.

`auth_generation`, read on every authenticated request, does not queue behind the worker: the
event loop reads it itself on a second, read-only connection. A one-row read of a WAL database
takes a few microseconds and never waits for the writer.

The store holds a lease (`leases`) from `open` to `close`; the usage reports read a daily rollup
that triggers keep in the settlements' own transactions (migration 7).

The class is put together from one mixin per concept (`methods/`) over the connection
(`_connection`): the worker thread, opening and closing, the lease.
"""

from __future__ import annotations

from aihub_core.store.sqlite.methods.accounts import SQLiteAccounts
from aihub_core.store.sqlite.methods.alerts import SQLiteAlerts
from aihub_core.store.sqlite.methods.idempotency import SQLiteIdempotency
from aihub_core.store.sqlite.methods.keys import SQLiteKeys
from aihub_core.store.sqlite.methods.ledger import SQLiteLedger
from aihub_core.store.sqlite.methods.outbox import SQLiteOutbox
from aihub_core.store.sqlite.methods.reports import SQLiteReports
from aihub_core.store.sqlite.methods.sessions import SQLiteSessions


class SQLiteStore(
    SQLiteAccounts,
    SQLiteKeys,
    SQLiteSessions,
    SQLiteLedger,
    SQLiteReports,
    SQLiteAlerts,
    SQLiteOutbox,
    SQLiteIdempotency,
):
    """`base.Store` on one SQLite file (or `:memory:`), owned by a single worker thread.

    `tracer(sql, params)` is called with every statement, on the worker thread (debugging, tests).
    Up to `ledger_batch` ledger writes share a commit; settlements commit at `options.durability`.
    """
