"""The SQLite store's connection: its worker thread, opening and closing, the lease, and how every
method reaches the database (`_call`, the group commits, the event loop's read-only reader)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, Concatenate, ParamSpec, Self, TypeVar

from aihub_core.store import leases
from aihub_core.store.options import Durability, StoreOptions
from aihub_core.store.records import Recovered
from aihub_core.store.sqlite import _leases
from aihub_core.store.sqlite._group import GroupCommit
from aihub_core.store.sqlite._sqlite_utils import Database
from aihub_core.store.sqlite._worker import Worker
from aihub_core.store.sqlite.migrations import apply_migrations
from aihub_core.store.sqlite.url import MEMORY

log = logging.getLogger("aihub.store")
P = ParamSpec("P")
T = TypeVar("T")
Tracer = Callable[[str, Any], None]
# PRAGMA synchronous of a settlement's commit: FULL fsyncs the WAL, NORMAL leaves it to the OS.
_SYNCHRONOUS = MappingProxyType({Durability.DURABLE: "FULL", Durability.DEFERRED: "NORMAL"})


class SQLiteConnection:
    """The connection and lease every SQLite store method goes through (`store.SQLiteStore`).

    `tracer(sql, params)` is called with every statement, on the worker thread (debugging, tests).
    Up to `ledger_batch` ledger writes share a commit; settlements commit at `options.durability`.
    """

    def __init__(
        self,
        path: Path | str,
        options: StoreOptions | None = None,
        *,
        busy_timeout_ms: int = 5000,
        tracer: Tracer | None = None,
        ledger_batch: int = 64,
    ) -> None:
        self.path = str(path)
        options = options or StoreOptions()
        self._owner = options.owner or leases.new_owner()
        self._lease_seconds = options.lease_seconds
        self._clock = options.clock or _system_clock
        self._machine = leases.this_machine()
        self._keeper = leases.LeaseKeeper(self, options.lease_seconds / 3) if options.keep_lease else None
        self.durability = options.durability
        # The PRAGMA synchronous level of the settlements' commits.
        self.ledger_synchronous = _SYNCHRONOUS[self.durability]
        self._busy_timeout_ms = busy_timeout_ms
        self._tracer = tracer
        self._executor: Worker | None = None
        self._db: Database | None = None  # only ever touched on the worker thread
        self._reader: sqlite3.Connection | None = None  # the event loop's, for auth_generation
        # An in-memory database has nothing to sync; a file's other writes stay at NORMAL.
        synchronous = None if self.path == MEMORY else self.ledger_synchronous
        self._ledger = GroupCommit(ledger_batch, synchronous, restore="NORMAL")
        # Reservations need not reach the disk before the call goes on: a power cut that loses one
        # also lost the call's answer (settling fsyncs the WAL, earlier frames included), and an
        # unanswered call is not charged anyway. So their batches commit at NORMAL: no fsync.
        self._reservations = GroupCommit(ledger_batch, None)

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def owner(self) -> str:
        """The name of this store's lease."""
        return self._owner

    async def open(self) -> None:
        """Connect, apply pending migrations and take the lease."""
        if self._executor is not None:
            raise RuntimeError("the store is already open")
        executor = Worker("aihub-sqlite")
        self._executor = executor
        try:
            await executor.run(self._connect)
            # After _connect: the migrations have made the table it reads.
            self._reader = None if self.path == MEMORY else self._open_reader()
            await self._call(self._take_lease)
        except BaseException:
            self._executor = None
            reader, self._reader = self._reader, None
            if reader is not None:
                reader.close()
            # When we were cancelled the connect job may still succeed: queue its undoing behind it.
            executor.submit(self._disconnect)
            executor.shutdown(wait=False)
            raise
        if self._keeper is not None:
            self._keeper.start()

    async def close(self) -> None:
        """Finish pending writes, end the lease and release the connection."""
        if self._keeper is not None:
            await self._keeper.stop()
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()
        executor, self._executor = self._executor, None
        if executor is None:
            return
        try:
            # Jobs run in order, so every call queued before these completes first.
            await executor.run(self._end_lease)
            await executor.run(self._disconnect)
        finally:
            # Nothing is queued any more, so joining the idle worker returns at once.
            executor.shutdown(wait=True)

    def _take_lease(self, db: Database) -> None:
        _leases.renew(db, self._owner, self._clock(), self._lease_seconds, self._machine, os.getpid())

    def _end_lease(self) -> None:
        if self._db is None:
            return
        try:
            _leases.end(self._db, self._owner)
        except sqlite3.Error:
            # It expires by itself; what this store left pending waits that long.
            log.warning("could not end the store's lease %s", self._owner, exc_info=True)

    def _connect(self) -> None:
        memory = self.path == MEMORY
        if not memory:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            _create_private(Path(self.path))
        conn = sqlite3.connect(self.path, timeout=self._busy_timeout_ms / 1000)
        try:
            db = Database(conn, tracer=self._tracer, execute_plugins=False)
            db.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            db.execute("PRAGMA foreign_keys = ON")
            if not memory:
                db.enable_wal()
                # Safe with WAL: a power cut may lose the last commits, never corrupt the file.
                db.execute("PRAGMA synchronous = NORMAL")
            apply_migrations(db)
        except BaseException:
            conn.close()
            raise
        self._db = db

    def _open_reader(self) -> sqlite3.Connection:
        uri = Path(self.path).resolve().as_uri() + "?mode=ro"
        # Autocommit, and every read runs to its end: no snapshot is held from one read to the
        # next. timeout=0: the event loop never sleeps in a busy handler (auth_generation falls
        # back to the worker instead).
        return sqlite3.connect(uri, uri=True, timeout=0, isolation_level=None, check_same_thread=False)

    def _disconnect(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            db.close()

    async def _call(self, fn: Callable[Concatenate[Database, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        executor = self._executor
        if executor is None:
            raise RuntimeError("the store is not open")
        job = functools.partial(self._on_worker, fn, *args, **kwargs)
        # Once made, a call runs to its end even if the caller is cancelled: a client hanging up
        # must not drop the usage record of what was already generated.
        return await asyncio.shield(executor.run(job))

    async def _write_ledger(
        self, fn: Callable[Concatenate[Database, P], None], *args: P.args, **kwargs: P.kwargs
    ) -> None:
        def write(db: Database) -> None:
            fn(db, *args, **kwargs)

        await self._group_write(self._ledger, write)

    async def _group_write(self, queue: GroupCommit, write: Callable[[Database], None]) -> None:
        # Shielded like _call: the write is queued and will be committed; a cancelled caller
        # only stops waiting for it.
        await asyncio.shield(asyncio.wrap_future(self._queue_write(queue, write)))

    def _queue_write(self, queue: GroupCommit, write: Callable[[Database], None]) -> Future[None]:
        executor = self._executor
        if executor is None:
            raise RuntimeError("the store is not open")
        done = queue.put(write)
        # One commit job per write: a job finding the queue emptied by an earlier batch does
        # nothing, and every write is taken before close()'s disconnect job, which queues last.
        # The one worker runs jobs in order, so a write is committed before any queued after it.
        executor.submit(functools.partial(self._commit_batch, queue))
        return done

    def _commit_batch(self, queue: GroupCommit) -> None:
        queue.commit_batch(self._db)

    def _on_worker(self, fn: Callable[Concatenate[Database, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        if self._db is None:
            raise RuntimeError("the store is not open")
        return fn(self._db, *args, **kwargs)

    async def _counter(self, sql: str, on_worker: Callable[[Database], int]) -> int:
        reader = self._reader
        if reader is not None:
            try:
                return int(reader.execute(sql).fetchall()[0][0])
            except (sqlite3.Error, IndexError):
                pass
        return await self._call(on_worker)

    async def renew_lease(self) -> bool:
        """Extend this store's lease; False (and logged) if it had been lost and is taken anew."""
        held = await self._call(
            _leases.renew, self._owner, self._clock(), self._lease_seconds, self._machine, os.getpid()
        )
        if not held:
            log.warning(
                "the store's lease %s had ended: its pending work was recovered; taken anew", self._owner
            )
        return held

    async def recover_abandoned(self) -> Recovered:
        """Settle and free the pending work of stores that hold no lease (see the Protocol)."""
        return await self._call(_leases.recover, self._owner, self._clock(), self._machine)


def _system_clock() -> datetime:
    return datetime.now(UTC)


def _create_private(path: Path) -> None:
    """Create a new database file readable by its owner only (0600) before SQLite opens it: it
    holds password and key hashes, and SQLite gives the -wal and -shm files it creates beside it
    the database file's permissions. An existing file is left as its owner made it."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
