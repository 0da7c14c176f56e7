"""The PostgreSQL store's connection: its pool, opening and closing, the lease and recovery, and
how every method reaches the database (`_call` on a pooled connection, `_write` through the
group commit).

The pool resets a connection it takes back with nothing but a rollback of a transaction left open:
the store holds no session state (no LISTEN, no session settings, only transaction-level advisory
locks), and asyncpg's default reset would cost a round trip per call.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Future
from datetime import datetime
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Self, TypeVar

import asyncpg

from aihub_core.store import leases, rows
from aihub_core.store.options import StoreOptions
from aihub_core.store.postgres import _leases
from aihub_core.store.postgres._ledger import LedgerWrite, LedgerWriter
from aihub_core.store.postgres._unavailable import database_unavailable, unreachable
from aihub_core.store.postgres.migrations import apply_migrations
from aihub_core.store.postgres.url import PostgresURL
from aihub_core.store.records import Recovered

if TYPE_CHECKING:
    from aihub_core.store.postgres._queries import Conn

log = logging.getLogger("aihub.store")
P = ParamSpec("P")
T = TypeVar("T")
# A lost database host must not hang a call forever: it fails, and the caller answers 503.
COMMAND_TIMEOUT_SECONDS = 30.0


async def _no_reset(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    """Nothing to reset beyond the rollback asyncpg does anyway (see the module docstring)."""


class PostgresConnection:
    """The pool and lease every PostgreSQL store method goes through (`store.PostgresStore`)."""

    def __init__(
        self, url: PostgresURL, options: StoreOptions | None = None, *, ledger_batch: int = 64
    ) -> None:
        options = options or StoreOptions()
        self.url = url
        self.durability = options.durability
        self._options = options
        self._owner = options.owner or leases.new_owner()
        self._machine = leases.this_machine()
        self._ledger_batch = ledger_batch
        self._keeper = leases.LeaseKeeper(self, options.lease_seconds / 3) if options.keep_lease else None
        self._pool: asyncpg.Pool[asyncpg.Record] | None = None
        self._writer: LedgerWriter | None = None
        # What this store's calls left pending while the database was unreachable.
        self._orphans = _leases.Orphans()

    @property
    def owner(self) -> str:
        """The name of this store's lease."""
        return self._owner

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def open(self) -> None:
        """Connect (the pool), apply pending migrations once, and take the lease."""
        if self._pool is not None:
            raise RuntimeError("the store is already open")
        pool = await asyncpg.create_pool(
            self.url.dsn,
            min_size=1,
            max_size=self._options.pool_size,
            statement_cache_size=self._options.statement_cache_size,
            command_timeout=COMMAND_TIMEOUT_SECONDS,
            timeout=self.url.connect_timeout,
            reset=_no_reset,
        )
        try:
            async with pool.acquire() as conn:
                applied = await apply_migrations(conn)
                if applied:
                    log.info("database %s migrated to version %d", self.url.shown, applied[-1])
                await _leases.renew(conn, self._owner, self._now(), self._lease, self._machine, os.getpid())
        except BaseException:
            await pool.close()
            raise
        self._pool = pool
        self._writer = LedgerWriter(pool, self.durability, self._ledger_batch)
        if self._keeper is not None:
            self._keeper.start()

    async def close(self) -> None:
        """Commit what is queued, end the lease, and close the pool."""
        pool, writer = self._pool, self._writer
        if pool is None or writer is None:
            return
        if self._keeper is not None:
            await self._keeper.stop()
        try:
            await writer.close()
            async with pool.acquire() as conn:
                await _leases.end(conn, self._owner)
        except (OSError, asyncpg.PostgresError):
            log.warning(
                "could not end the store's lease %s: it expires by itself", self._owner, exc_info=True
            )
        finally:
            self._pool = self._writer = None
            await pool.close()

    @property
    def _lease(self) -> float:
        return self._options.lease_seconds

    def _now(self) -> datetime | None:
        clock = self._options.clock
        return None if clock is None else rows.utc(clock())

    async def _call(
        self, fn: Callable[Concatenate[Conn, P], Awaitable[T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        pool = self._pool
        if pool is None:
            raise RuntimeError("the store is not open")

        async def run() -> T:
            try:
                async with pool.acquire() as conn:
                    return await fn(conn, *args, **kwargs)
            except Exception as exc:
                if unreachable(exc):
                    raise database_unavailable() from exc
                raise

        # Once made, a call runs to its end even if the caller is cancelled.
        return await asyncio.shield(_task(run()))

    def _put(self, write: LedgerWrite) -> Future[None]:
        writer = self._writer
        if writer is None:
            raise RuntimeError("the store is not open")
        return writer.put(write)

    async def _write(self, write: LedgerWrite, settles: str | None = None) -> None:
        """Commit a ledger write through the group commit. If the database cannot be reached, the
        call's row (`settles`: its request id) may be left pending, written before the outage:
        it is settled as an uncharged error at the next recovery once the database is back."""
        try:
            await asyncio.shield(asyncio.wrap_future(self._put(write)))
        except Exception as exc:
            if not unreachable(exc):
                raise
            if settles is not None:
                self._orphans.request_ids.add(settles)
            raise database_unavailable() from exc

    async def _counter(self, sql: str) -> int:
        pool = self._pool
        if pool is None:
            raise RuntimeError("the store is not open")
        try:
            return int(await pool.fetchval(sql))
        except Exception as exc:
            if unreachable(exc):
                raise database_unavailable() from exc
            raise

    async def renew_lease(self) -> bool:
        """Extend this store's lease; False (and logged) if it had been lost and is taken anew."""
        held = await self._call(
            _leases.renew, self._owner, self._now(), self._lease, self._machine, os.getpid()
        )
        if not held:
            log.warning(
                "the store's lease %s had ended: its pending work was recovered; taken anew", self._owner
            )
        return held

    async def recover_abandoned(self) -> Recovered:
        """Settle and free the pending work of stores that hold no lease, exactly once."""
        orphans = self._orphans.take()
        try:
            return await self._call(_leases.recover, self._owner, self._now(), self._machine, orphans)
        except BaseException:
            self._orphans.put_back(orphans)
            raise


def _task(coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    return asyncio.get_running_loop().create_task(coro)
