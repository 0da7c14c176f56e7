"""How a store is made: its options (`StoreOptions`) and how durable its settlements are."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class Durability(Enum):
    """How far a settlement has gone when `record_usage` (or `append_turn` with usage) returns
    (AIHUB_LEDGER_SYNC, read by `settings`)."""

    DURABLE = "durable"
    """On stable storage: the record survives a power cut or a crash of the machine."""

    DEFERRED = "deferred"
    """Committed, and made durable by the database shortly after: the record survives a crash of
    the gateway process, but a power cut (or a crash of the database's machine) may lose the last
    moments' settlements, answered calls included."""


@dataclass(frozen=True)
class StoreOptions:
    """How `open_store` makes a store: what every backend takes, and a few settings only a backend
    with a connection pool uses (the others ignore them)."""

    owner: str | None = None
    """The name of the store's lease, which tags what it leaves pending; None: a name of its own
    (host, process id and a random part), unique among every store of every host."""

    durability: Durability = Durability.DURABLE
    """How far a settlement has gone when it returns (AIHUB_LEDGER_SYNC)."""

    lease_seconds: float = 30.0
    """How long the store's lease lasts unless renewed (AIHUB_LEASE_SECONDS): after a process dies
    on another host, this long at most passes before a live store recovers its work."""

    keep_lease: bool = True
    """Renew the lease and recover abandoned work in the background, every third of the lease.
    False: only when `renew_lease` and `recover_abandoned` are called (tests drive them)."""

    clock: Callable[[], datetime] | None = None
    """The clock of the lease's times and of recoveries' `settled_at`; None: the database's own
    (SQLite: this machine's; PostgreSQL: the server's, one clock for every host)."""

    pool_size: int = 10
    """Connections a pooled backend opens at most (AIHUB_DATABASE_POOL_SIZE)."""

    statement_cache_size: int = 100
    """Prepared statements a pooled backend keeps per connection (AIHUB_DATABASE_STATEMENT_CACHE);
    0 behind a pooler that does not track them (PgBouncer before 1.21)."""
