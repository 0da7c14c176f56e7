"""The storage contract: the `Store` protocol, which every backend implements.

`Store` combines one protocol per concept (`protocols/`: accounts, keys, sessions, ledger,
reports, leases, alerts, idempotency; and `outbox`, the alert outbox's operator side, with its
own records); the records they take and give are in `records`, a store's options in `options`.
Both are re-exported here, where the rest of the code imports them.

A backend (`aihub_core/store/<name>/`) is made by `open_store` from the database URL's scheme,
and it is done when the conformance suite (`tests/store/conformance/`) passes against it: the
docstrings here are what that suite checks.

- Every method is async and never blocks the event loop.
- Times are timezone-aware datetimes: a naive one is refused with ValueError, and what comes back
  is in UTC (the same instant, to the microsecond).
- Several stores, in one process or many, may share one database (the workers of `aihub serve
  --workers N`, a CLI command beside a server): once a write has returned, every store's next
  read sees it.
- A call once made runs to its end even if its caller is cancelled: a client hanging up must not
  drop the usage record of what was already generated.
- Errors a caller can cause come out as the core's errors (ConflictError, NotFoundError, as each
  method says); any other failure of the database propagates as it is.
- Costs are integers of pico-USD (`pricing`), stored and summed exactly.
- Each open store holds a lease (`StoreOptions.lease_seconds`), renewed while it runs; the work a
  store leaves pending (reservations, Idempotency-Key claims) is recovered by any live store once
  that lease has ended, expired, or its process is seen dead, exactly once
  (`recover_abandoned`).
"""

from __future__ import annotations

from typing import Protocol

from aihub_core.store.options import Durability, StoreOptions
from aihub_core.store.outbox import AlertOutbox
from aihub_core.store.protocols.accounts import AccountStore
from aihub_core.store.protocols.alerts import AlertStore
from aihub_core.store.protocols.idempotency import IdempotencyStore
from aihub_core.store.protocols.keys import KeyStore
from aihub_core.store.protocols.leases import LeaseStore
from aihub_core.store.protocols.ledger import LedgerStore
from aihub_core.store.protocols.reports import ReportStore
from aihub_core.store.protocols.sessions import SessionStore
from aihub_core.store.records import (
    ROLES,
    AlertDelivery,
    AlertEvent,
    AlertRecord,
    ApiKeyRecord,
    DailyTotals,
    GroupTotals,
    IdempotencyRecord,
    ModelTotals,
    Recovered,
    RotatedSecret,
    StoredMessage,
    UsageBreakdown,
    UsageLogEntry,
    UsageLogQuery,
    UsageRecord,
    UsageStatus,
    UserRecord,
)

__all__ = [
    "ROLES",
    "AccountStore",
    "AlertDelivery",
    "AlertEvent",
    "AlertOutbox",
    "AlertRecord",
    "AlertStore",
    "ApiKeyRecord",
    "DailyTotals",
    "Durability",
    "GroupTotals",
    "IdempotencyRecord",
    "IdempotencyStore",
    "KeyStore",
    "LeaseStore",
    "LedgerStore",
    "ModelTotals",
    "Recovered",
    "ReportStore",
    "RotatedSecret",
    "SchemaTooNewError",
    "SessionStore",
    "Store",
    "StoreOptions",
    "StoredMessage",
    "UsageBreakdown",
    "UsageLogEntry",
    "UsageLogQuery",
    "UsageRecord",
    "UsageStatus",
    "UserRecord",
]


class SchemaTooNewError(RuntimeError):
    """The database was migrated by a newer AI Hub than this one: refused rather than guessed at,
    since an older binary writing to a newer schema is how ledgers get corrupted."""


class Store(
    AccountStore,
    KeyStore,
    SessionStore,
    LedgerStore,
    ReportStore,
    LeaseStore,
    AlertStore,
    AlertOutbox,
    IdempotencyStore,
    Protocol,
):
    """Users, API keys, sessions, the usage ledger and Idempotency-Key claims.

    A store is made unopened, by `open_store(url, options)` (`StoreOptions`): its lease's name
    (`owner`) tags the reservations and claims it leaves pending, so that they alone are recovered
    once it is gone; `durability` applies to settlements. Every other write need only survive a
    crash of the gateway process.
    """

    @property
    def owner(self) -> str:
        """The name of this store's lease, which tags what it leaves pending."""
        ...

    async def open(self) -> None:
        """Connect, apply pending migrations (once, however many stores open the database at the
        same moment: the others wait for them) and take the lease. RuntimeError if the store is
        already open; until it is opened (and after it is closed) every call raises RuntimeError
        ("not open")."""
        ...

    async def close(self) -> None:
        """Finish every write made or queued before (`queue_reservation`'s included), end the lease
        (what the store left pending is then recovered by the next `recover_abandoned` of any
        store), then release the connection. Closing a closed store does nothing."""
        ...
