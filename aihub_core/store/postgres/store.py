"""The shared store: PostgreSQL through an asyncpg connection pool.

Every replica of the gateway, on any host, opens one of these on the same database. Reads and
single-statement writes take a pooled connection each; ledger writes go through the group commit
(`_ledger`); migrations run once under an advisory lock (`migrations`); the store's lease and
recovery are `_leases`'. docs/postgres.md has the settings and why asyncpg.

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
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import asyncpg

from aihub_core.errors import ServiceUnavailableError
from aihub_core.store import leases, rows
from aihub_core.store.base import (
    AlertDelivery,
    AlertEvent,
    AlertRecord,
    ApiKeyRecord,
    DailyTotals,
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
from aihub_core.store.postgres import _alerts, _leases, _logs
from aihub_core.store.postgres import _queries as q
from aihub_core.store.postgres._ledger import LedgerWrite, LedgerWriter, Reservation, Settlement, Turn
from aihub_core.store.postgres._unavailable import database_unavailable, unreachable
from aihub_core.store.postgres.migrations import apply_migrations
from aihub_core.store.postgres.url import PostgresURL

if TYPE_CHECKING:
    from aihub_core.store.postgres._queries import Conn

log = logging.getLogger("aihub.store")
P = ParamSpec("P")
T = TypeVar("T")
# A lost database host must not hang a call forever: it fails, and the caller answers 503.
COMMAND_TIMEOUT_SECONDS = 30.0


async def _no_reset(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    """Nothing to reset beyond the rollback asyncpg does anyway (see the module docstring)."""


class PostgresStore:
    """`base.Store` on a PostgreSQL database, shared by every process and host pointed at it."""

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

    async def __aenter__(self) -> PostgresStore:
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

    # users
    async def create_user(self, user: UserRecord) -> None:
        """Insert a user; ConflictError if the email or the id is taken."""
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
        """The auth generation: one indexed one-row read on a pooled connection."""
        return await self._counter(q.AUTH_GENERATION_SQL)

    async def revocations(self) -> int:
        """The log-out counter, read as the auth generation is."""
        return await self._counter(q.REVOCATIONS_SQL)

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
        rows.rotated_secret_row(secret)
        return await self._call(q.rotate_api_key, user_id, key_id, secret)

    async def touch_api_key(self, key_id: str, when: datetime) -> None:
        """Record that a key was used."""
        rows.utc(when)
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
        """Store a turn and its answer and settle the usage record, in one transaction (the group
        commit's, shared with other ledger writes)."""
        messages = (
            rows.message_row(user_id, session_id, user_message),
            rows.message_row(user_id, session_id, assistant_message),
        )
        settlement = rows.settled_row(usage) if usage else None
        session = {
            "user_id": user_id,
            "session_id": session_id,
            "created_at": messages[0]["created_at"],
            "updated_at": messages[1]["created_at"],
        }
        await self._write(Turn(session, messages, settlement), usage.request_id if usage else None)

    # usage ledger
    def queue_reservation(self, record: UsageRecord) -> None:
        """Queue the pending row of an admitted call and return at once (see the Protocol)."""
        done = self._put(Reservation(rows.reservation_row(record, self._owner)))
        done.add_done_callback(_log_lost_reservation)

    async def reserve_usage(self, record: UsageRecord) -> None:
        """Write the pending row of an admitted call; an id already in the ledger is left alone."""
        await self._write(Reservation(rows.reservation_row(record, self._owner)))

    async def record_usage(self, record: UsageRecord) -> None:
        """Settle a call once (its pending row, or a new row); returns once committed."""
        await self._write(Settlement(rows.settled_row(record)), record.request_id)

    async def daily_usage(self, user_id: str, first: date, last: date) -> list[DailyTotals]:
        """Billable totals per UTC day, first..last inclusive, oldest first (the rollup)."""
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
        rows.utc(since)
        return await self._call(q.count_requests, user_id, since)

    async def key_spent(self, key_id: str, since: datetime) -> int:
        """The settled cost of a key's calls since a moment (see the Protocol)."""
        rows.utc(since)
        return await self._call(q.key_spent, key_id, since)

    async def user_spent(self, user_id: str, since: datetime) -> int:
        """The settled cost of a user's calls since a moment (see the Protocol)."""
        rows.utc(since)
        return await self._call(q.user_spent, user_id, since)

    async def usage_logs(self, user_id: str, query: UsageLogQuery) -> list[UsageLogEntry]:
        """One page of the user's ledger rows, newest first (see the Protocol)."""
        rows.checked_log_query(query)
        return await self._call(_logs.usage_logs, user_id, query)

    # leases and recovery
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
        return await self._call(_alerts.alert_events, user_id, since)

    async def claim_alert_deliveries(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[AlertDelivery]:
        """Claim due events for delivery (see the Protocol)."""
        return await self._call(_alerts.claim_deliveries, now, lease_until, limit)

    async def finish_alert_delivery(
        self, event_id: str, delivered_at: datetime | None, next_attempt_at: datetime, error: str
    ) -> None:
        """End a delivery attempt (see the Protocol)."""
        await self._call(_alerts.finish_delivery, event_id, delivered_at, next_attempt_at, error)

    # idempotency keys
    async def claim_idempotency_key(
        self, claim: IdempotencyRecord, expired_before: datetime
    ) -> IdempotencyRecord | None:
        """Claim a key for a call (None), or return the live claim already holding it."""
        rows.utc(expired_before)
        return await self._call(q.claim_idempotency_key, claim, expired_before, self._owner)

    async def complete_idempotency_key(self, user_id: str, key: str, response: bytes) -> None:
        """Store the answer of a claimed key's call, for replays."""
        await self._call(q.complete_idempotency_key, user_id, key, response)

    async def release_idempotency_key(self, user_id: str, key: str) -> None:
        """Drop a pending claim whose call failed, so a retry runs afresh (at the next recovery, if
        the database cannot be reached now)."""
        try:
            await self._call(q.release_idempotency_key, user_id, key)
        except ServiceUnavailableError:
            self._orphans.claims.add((user_id, key))
            raise


def _task(coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    return asyncio.get_running_loop().create_task(coro)


def _log_lost_reservation(done: Future[None]) -> None:
    error = done.exception()
    if error is not None:
        log.error("a usage reservation was not written (its settlement records the call)", exc_info=error)
