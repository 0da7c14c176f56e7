"""The embedded store: one SQLite file in WAL mode, driven through sqlite-utils.

SQLite calls block, so the connection lives on one dedicated worker thread and every call is
awaited through `run_in_executor`. One thread also serialises this process's writes, which is
what SQLite wants anyway (one writer at a time), and lets `check_same_thread` keep its safe default.

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
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlite_utils import Database

from aihub_core.store import leases, rows
from aihub_core.store.base import (
    AlertDelivery,
    AlertEvent,
    AlertRecord,
    ApiKeyRecord,
    DailyTotals,
    Durability,
    IdempotencyRecord,
    ModelTotals,
    Recovered,
    RotatedSecret,
    StoredMessage,
    StoreOptions,
    UsageLogEntry,
    UsageLogQuery,
    UsageRecord,
    UserRecord,
)
from aihub_core.store.sqlite import _alerts, _leases, _logs
from aihub_core.store.sqlite import _codec as codec
from aihub_core.store.sqlite import _idempotency as idem
from aihub_core.store.sqlite import _queries as q
from aihub_core.store.sqlite._group import GroupCommit
from aihub_core.store.sqlite.migrations import apply_migrations
from aihub_core.store.sqlite.url import MEMORY

log = logging.getLogger("aihub.store")
P = ParamSpec("P")
T = TypeVar("T")
Tracer = Callable[[str, Any], None]
# PRAGMA synchronous of a settlement's commit: FULL fsyncs the WAL, NORMAL leaves it to the OS.
_SYNCHRONOUS = MappingProxyType({Durability.DURABLE: "FULL", Durability.DEFERRED: "NORMAL"})


class SQLiteStore:
    """`base.Store` on one SQLite file (or `:memory:`), owned by a single worker thread.

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
        self._executor: ThreadPoolExecutor | None = None
        self._db: Database | None = None  # only ever touched on the worker thread
        self._reader: sqlite3.Connection | None = None  # the event loop's, for auth_generation
        # An in-memory database has nothing to sync; a file's other writes stay at NORMAL.
        synchronous = None if self.path == MEMORY else self.ledger_synchronous
        self._ledger = GroupCommit(ledger_batch, synchronous, restore="NORMAL")
        # Reservations need not reach the disk before the call goes on: a power cut that loses one
        # also lost the call's answer (settling fsyncs the WAL, earlier frames included), and an
        # unanswered call is not charged anyway. So their batches commit at NORMAL: no fsync.
        self._reservations = GroupCommit(ledger_batch, None)

    async def __aenter__(self) -> SQLiteStore:
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
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aihub-sqlite")
        self._executor = executor
        try:
            await asyncio.get_running_loop().run_in_executor(executor, self._connect)
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
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(executor, self._end_lease)
            await loop.run_in_executor(executor, self._disconnect)
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
        return await asyncio.shield(asyncio.get_running_loop().run_in_executor(executor, job))

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
        executor.submit(self._commit_batch, queue)
        return done

    def _commit_batch(self, queue: GroupCommit) -> None:
        queue.commit_batch(self._db)

    def _on_worker(self, fn: Callable[Concatenate[Database, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        if self._db is None:
            raise RuntimeError("the store is not open")
        return fn(self._db, *args, **kwargs)

    # users
    async def create_user(self, user: UserRecord) -> None:
        """Insert a user; raises ConflictError if the email is taken."""
        await self._call(q.create_user, user)

    async def get_user(self, user_id: str) -> UserRecord | None:
        """The user with this id."""
        return await self._call(q.get_user, user_id)

    async def get_user_by_email(self, email: str) -> UserRecord | None:
        """The user with this email, compared case-insensitively."""
        return await self._call(q.get_user_by_email, email)

    async def set_plan(self, email: str, plan: str) -> bool:
        """Change a user's plan; False if there is no such user."""
        return await self._call(q.set_plan, email, plan)

    async def set_user_budget(self, email: str, limit_pico_usd: int | None, period: str | None) -> bool:
        """Set or remove a user's budget; False if there is no such user."""
        return await self._call(q.set_user_budget, email, limit_pico_usd, period)

    async def revoke_token(self, token_id: str, user_id: str, expires_at: datetime, now: datetime) -> None:
        """Refuse a login token until it expires (see the Protocol)."""
        rows.utc(expires_at)
        rows.utc(now)
        await self._call(q.revoke_token, token_id, user_id, expires_at, now)

    async def token_revoked(self, token_id: str) -> bool:
        """Whether a log-out revoked the login token."""
        return await self._call(q.token_revoked, token_id)

    async def list_users(self) -> list[UserRecord]:
        """Every user, oldest first."""
        return await self._call(q.list_users)

    async def set_role(self, email: str, role: str) -> bool:
        """Change a user's role; False if there is no such user."""
        return await self._call(q.set_role, email, role)

    async def auth_generation(self) -> int:
        """The auth generation (see `base.Store`): read on the calling thread through the read-only
        connection, in microseconds. If that read fails (a busy database, `:memory:`, which no
        second connection can see), the worker reads it: exact, only slower."""
        return await self._counter(q.AUTH_GENERATION_SQL, q.auth_generation)

    async def revocations(self) -> int:
        """The log-out counter, read as the auth generation is."""
        return await self._counter(q.REVOCATIONS_SQL, q.revocations)

    async def _counter(self, sql: str, on_worker: Callable[[Database], int]) -> int:
        reader = self._reader
        if reader is not None:
            try:
                return int(reader.execute(sql).fetchall()[0][0])
            except (sqlite3.Error, IndexError):
                pass
        return await self._call(on_worker)

    # API keys
    async def create_api_key(self, key: ApiKeyRecord) -> None:
        """Insert a key; ConflictError on a duplicate id or hash, NotFoundError for an unknown user."""
        await self._call(q.create_api_key, key)

    async def get_api_key_by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        """The live (not deleted) key with this hash."""
        return await self._call(q.get_api_key_by_hash, key_hash)

    async def list_api_keys(self, user_id: str) -> list[ApiKeyRecord]:
        """The user's live keys, newest first."""
        return await self._call(q.list_api_keys, user_id)

    async def delete_api_key(self, user_id: str, key_id: str) -> bool:
        """Delete one of the user's keys; False if the user has no such live key."""
        return await self._call(q.delete_api_key, user_id, key_id)

    async def rotate_api_key(self, user_id: str, key_id: str, secret: RotatedSecret) -> ApiKeyRecord | None:
        """Give one of the user's live keys a new secret, keeping the old one's grace (see the Protocol)."""
        return await self._call(q.rotate_api_key, user_id, key_id, secret)

    async def touch_api_key(self, key_id: str, when: datetime) -> None:
        """Record that a key was used."""
        await self._call(q.touch_api_key, key_id, when)

    # sessions
    async def session_messages(
        self, user_id: str, session_id: str, newest: int | None = None
    ) -> list[StoredMessage] | None:
        """The session's turns (only the `newest` if given), oldest first; None if there is none."""
        return await self._call(q.session_messages, user_id, session_id, newest)

    async def append_turn(
        self,
        user_id: str,
        session_id: str,
        user_message: StoredMessage,
        assistant_message: StoredMessage,
        usage: UsageRecord | None = None,
    ) -> None:
        """Store a turn and its answer (creating the session), and settle the usage record, in one
        transaction (group-committed with other ledger writes when it settles one)."""
        if usage is None:
            await self._call(q.append_turn, user_id, session_id, user_message, assistant_message, usage)
            return
        await self._write_ledger(q.append_turn, user_id, session_id, user_message, assistant_message, usage)

    # usage ledger
    def queue_reservation(self, record: UsageRecord) -> None:
        """Queue the pending row of an admitted call and return at once (see the Protocol)."""
        write = functools.partial(q.reserve_usage, record=record, owner=self._owner)
        done = self._queue_write(self._reservations, write)
        done.add_done_callback(_log_lost_reservation)

    async def reserve_usage(self, record: UsageRecord) -> None:
        """Write the pending row of an admitted call; an id already in the ledger is left alone."""
        write = functools.partial(q.reserve_usage, record=record, owner=self._owner)
        await self._group_write(self._reservations, write)

    async def record_usage(self, record: UsageRecord) -> None:
        """Settle a call once (its pending row, or a new row); returns once committed."""
        await self._write_ledger(q.record_usage, record)

    # leases and recovery
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

    async def daily_usage(self, user_id: str, first: date, last: date) -> list[DailyTotals]:
        """Billable totals per UTC day, first..last inclusive, oldest first; days without records omitted."""
        return await self._call(q.daily_usage, user_id, first, last)

    async def gateway_daily_usage(self, first: date, last: date) -> list[DailyTotals]:
        """Every user's billable totals per UTC day, first..last inclusive, oldest first (the rollup)."""
        return await self._call(q.gateway_daily_usage, first, last)

    async def top_models(self, first: date, last: date, limit: int) -> list[ModelTotals]:
        """The most costly (service, model)s of the days first..last (see the Protocol)."""
        if not 1 <= limit <= 1000:
            raise ValueError(f"limit must be 1 to 1000, not {limit}")
        return await self._call(q.top_models, first, last, limit)

    async def count_requests(self, user_id: str, since: datetime) -> int:
        """Requests counted against the monthly quota since a moment: billable and pending ones."""
        return await self._call(q.count_requests, user_id, since)

    async def key_spent(self, key_id: str, since: datetime) -> int:
        """The settled cost of a key's calls since a moment (see the Protocol)."""
        return await self._call(q.key_spent, key_id, since)

    async def user_spent(self, user_id: str, since: datetime) -> int:
        """The settled cost of a user's calls since a moment (see the Protocol)."""
        return await self._call(q.user_spent, user_id, since)

    async def usage_logs(self, user_id: str, query: UsageLogQuery) -> list[UsageLogEntry]:
        """One page of the user's ledger rows, newest first (see the Protocol)."""
        return await self._call(_logs.usage_logs, user_id, query)

    # usage alerts
    async def create_alert(self, alert: AlertRecord) -> None:
        """Insert an alert and count it on its user (see the Protocol)."""
        await self._call(_alerts.create_alert, alert)

    async def list_alerts(self, user_id: str) -> list[AlertRecord]:
        """The user's alerts, oldest first."""
        return await self._call(_alerts.list_alerts, user_id)

    async def delete_alert(self, user_id: str, alert_id: str) -> bool:
        """Delete one of the user's alerts; False if there is none of this id."""
        return await self._call(_alerts.delete_alert, user_id, alert_id)

    async def fire_alert(self, event: AlertEvent) -> bool:
        """Record a crossing once per alert and period; True if this call recorded it."""
        return await self._call(_alerts.fire_alert, event)

    async def alert_events(self, user_id: str, since: datetime) -> list[AlertEvent]:
        """The user's events recorded at or after a moment, oldest first."""
        return await self._call(_alerts.alert_events, user_id, codec.encode_time(since))

    async def claim_alert_deliveries(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[AlertDelivery]:
        """Claim due events for delivery (see the Protocol)."""
        encode = codec.encode_time
        return await self._call(_alerts.claim_deliveries, encode(now), encode(lease_until), limit)

    async def finish_alert_delivery(
        self, event_id: str, delivered_at: datetime | None, next_attempt_at: datetime, error: str
    ) -> None:
        """End a delivery attempt (see the Protocol)."""
        delivered = None if delivered_at is None else codec.encode_time(delivered_at)
        await self._call(
            _alerts.finish_delivery, event_id, delivered, codec.encode_time(next_attempt_at), error
        )

    # idempotency keys
    async def claim_idempotency_key(
        self, claim: IdempotencyRecord, expired_before: datetime
    ) -> IdempotencyRecord | None:
        """Claim a key for a call (None), or return the live claim already holding it."""
        return await self._call(idem.claim, claim, codec.encode_time(expired_before), self._owner)

    async def complete_idempotency_key(self, user_id: str, key: str, response: bytes) -> None:
        """Store the answer of a claimed key's call, for replays."""
        await self._call(idem.complete, user_id, key, response)

    async def release_idempotency_key(self, user_id: str, key: str) -> None:
        """Drop a pending claim whose call failed, so a retry runs afresh."""
        await self._call(idem.release, user_id, key)


def _system_clock() -> datetime:
    return datetime.now(UTC)


def _log_lost_reservation(done: Future[None]) -> None:
    error = done.exception()
    if error is not None:
        log.error("a usage reservation was not written (its settlement records the call)", exc_info=error)


def _create_private(path: Path) -> None:
    """Create a new database file readable by its owner only (0600) before SQLite opens it: it
    holds password and key hashes, and SQLite gives the -wal and -shm files it creates beside it
    the database file's permissions. An existing file is left as its owner made it."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
