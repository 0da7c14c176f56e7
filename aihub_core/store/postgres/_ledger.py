"""Group commit for the PostgreSQL ledger: one writer task per store applies the queued ledger
writes (reservations, settlements, turns that settle) in batches (`batching.WriteQueue`).

A batch is one transaction of a few statements whatever its size: every reservation in one
`INSERT ... SELECT FROM unnest(...)`, the turns' sessions and messages in one each, and every
settlement in one statement that also adds the settled calls to the daily rollup, aggregated per
(user, day) and upserted in key order, so that replicas committing at once never deadlock on it.
Settlements commit with `synchronous_commit` on (DURABLE: on the server's disk, and on its
synchronous standbys', before the callers resume) or off (DEFERRED); a batch of reservations
alone commits with it off, as SQLite's do at NORMAL: a reservation lost with a server crash also
lost its call's answer, and the settlement that follows flushes it anyway.

The writer keeps the queue's order: a batch never holds two writes of one request id (or one
session), so a reservation always lands before the settlement queued after it. If a batch fails
for a reason a write can cause (a constraint), each of its writes is applied again alone, so the
bad one fails alone, as the contract says.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import asyncpg

from aihub_core.store.batching import Queued, WriteQueue, fail, resolve
from aihub_core.store.options import Durability
from aihub_core.store.postgres import _queries as q
from aihub_core.store.rows import Row

if TYPE_CHECKING:
    from aihub_core.store.postgres._queries import Conn

log = logging.getLogger("aihub.store")


@dataclass(frozen=True)
class Reservation:
    """The pending row of an admitted call (`rows.reservation_row`)."""

    row: Row


@dataclass(frozen=True)
class Settlement:
    """A settled call's row (`rows.settled_row`)."""

    row: Row


@dataclass(frozen=True)
class Turn:
    """A session turn (its session row and two message rows) and the settlement it carries."""

    session: Row
    messages: tuple[Row, Row]
    settlement: Row | None


LedgerWrite = Reservation | Settlement | Turn

_COMMON = (
    ("request_id", "text"),
    ("user_id", "text"),
    ("key_id", "text"),
    ("service", "text"),
    ("model", "text"),
    ("prompt_tokens", "int4"),
    ("completion_tokens", "int4"),
    ("cost_pico_usd", "int8"),
    ("status", "text"),
    ("usage_source", "text"),
    ("session_id", "text"),
    ("response_time_ms", "int4"),
    ("created_at", "timestamptz"),
)
_RESERVE_COLUMNS = (*_COMMON, ("owner", "text"))
# owner: set when a reservation queued in the same batch was folded into its settlement (`merge`).
_SETTLE_COLUMNS = (*_COMMON, ("settled_at", "timestamptz"), ("owner", "text"))
# What a settlement fills in; the reservation keeps its created_at (admission) and key_id.
_SETTLED = (
    "service",
    "model",
    "prompt_tokens",
    "completion_tokens",
    "cost_pico_usd",
    "status",
    "usage_source",
    "session_id",
    "response_time_ms",
    "settled_at",
)


def _unnest(columns: Sequence[tuple[str, str]], first: int = 1) -> str:
    arrays = ", ".join(f"${i}::{kind}[]" for i, (_, kind) in enumerate(columns, start=first))
    return f"unnest({arrays}) AS t({', '.join(name for name, _ in columns)})"


def _names(columns: Sequence[tuple[str, str]]) -> str:
    return ", ".join(name for name, _ in columns)


_RESERVE_SQL = (
    f"INSERT INTO usage_records ({_names(_RESERVE_COLUMNS)}) "
    f"SELECT * FROM {_unnest(_RESERVE_COLUMNS)} ON CONFLICT (request_id) DO NOTHING"
)
# Settle once (a settled row is never changed, nor another user's reservation), then add what was
# settled to the rollup: one upsert per (user, day), in key order.
ADD_TO_ROLLUP = f"""
INSERT INTO usage_daily AS d (user_id, day, requests, tokens, cost_pico_usd)
SELECT user_id, (created_at AT TIME ZONE 'UTC')::date, count(*), sum(tokens), sum(cost_pico_usd)
FROM settled WHERE {q.BILLABLE_SQL} GROUP BY 1, 2 ORDER BY 1, 2
ON CONFLICT (user_id, day) DO UPDATE SET requests = d.requests + excluded.requests,
    tokens = d.tokens + excluded.tokens, cost_pico_usd = d.cost_pico_usd + excluded.cost_pico_usd
"""
_SETTLE_SQL = f"""
WITH input AS (SELECT * FROM {_unnest(_SETTLE_COLUMNS)} ORDER BY request_id),
settled AS (
    INSERT INTO usage_records AS u ({_names(_SETTLE_COLUMNS)}) SELECT * FROM input
    ON CONFLICT (request_id) DO UPDATE SET {", ".join(f"{c} = excluded.{c}" for c in _SETTLED)}
    WHERE u.status = 'pending' AND u.user_id = excluded.user_id
    RETURNING u.user_id, u.created_at, u.status, u.prompt_tokens + u.completion_tokens AS tokens,
        u.cost_pico_usd
)
{ADD_TO_ROLLUP}
"""
_SESSIONS_SQL = (
    "INSERT INTO sessions (user_id, session_id, created_at, updated_at) "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[]) "
    "ON CONFLICT (user_id, session_id) DO UPDATE SET updated_at = excluded.updated_at"
)
# WITH ORDINALITY ... ORDER BY: the messages get their ids in the order they were queued.
_MESSAGES_SQL = (
    "INSERT INTO messages (user_id, session_id, role, content, images, created_at) "
    "SELECT user_id, session_id, role, content, images, created_at FROM unnest($1::text[], $2::text[], "
    "$3::text[], $4::text[], $5::text[], $6::timestamptz[]) WITH ORDINALITY "
    "AS t(user_id, session_id, role, content, images, created_at, n) ORDER BY n"
)
# Errors one write can cause: the batch is retried write by write, so it fails alone.
_WRITE_ERRORS = (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError)
# Two transactions waiting on each other (rare: only settlements racing a recovery): retried.
_RETRIED = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)
_ATTEMPTS = 3


def _keys(write: LedgerWrite) -> set[tuple[str, ...]]:
    """What one statement of a batch may touch only once: request ids, sessions."""
    if isinstance(write, Turn):
        session = ("session", write.session["user_id"], write.session["session_id"])
        settled = {("request", write.settlement["request_id"])} if write.settlement else set()
        return {session, *settled}
    return {("request", write.row["request_id"])}


def segments(batch: Sequence[LedgerWrite]) -> list[list[LedgerWrite]]:
    """The batch cut, in order, where a write would touch what an earlier one of its part did."""
    parts: list[list[LedgerWrite]] = [[]]
    seen: set[tuple[str, ...]] = set()
    for write in batch:
        keys = _keys(write)
        if keys & seen:
            parts.append([])
            seen = set()
        parts[-1].append(write)
        seen |= keys
    return [part for part in parts if part]


async def apply(conn: Conn, writes: Sequence[LedgerWrite]) -> None:
    """Apply writes that touch distinct rows: reservations, then turns, then settlements."""
    reserved = [w.row for w in writes if isinstance(w, Reservation)]
    turns = [w for w in writes if isinstance(w, Turn)]
    settled = [w.row for w in writes if isinstance(w, Settlement)]
    settled += [t.settlement for t in turns if t.settlement is not None]
    if reserved:
        await conn.execute(_RESERVE_SQL, *_arrays(reserved, _RESERVE_COLUMNS))
    if turns:
        sessions = [t.session for t in turns]
        columns = ("user_id", "session_id", "created_at", "updated_at")
        await conn.execute(_SESSIONS_SQL, *([s[c] for s in sessions] for c in columns))
        messages = [m for t in turns for m in t.messages]
        await conn.execute(
            _MESSAGES_SQL,
            [m["user_id"] for m in messages],
            [m["session_id"] for m in messages],
            [m["role"] for m in messages],
            [m["content"] for m in messages],
            [json.dumps(list(m["images"])) for m in messages],
            [m["created_at"] for m in messages],
        )
    if settled:
        await conn.execute(_SETTLE_SQL, *_arrays(settled, _SETTLE_COLUMNS))


def _arrays(batch: Sequence[Row], columns: Sequence[tuple[str, str]]) -> list[list[object]]:
    return [[row.get(name) for row in batch] for name, _ in columns]


def _fold(settlement: Row, found: tuple[int, Row] | None, at: int, folded: set[int]) -> Row:
    """The settlement carrying its earlier reservation's admission time, key and owner."""
    if found is None or found[0] > at or found[1]["user_id"] != settlement["user_id"]:
        return settlement
    folded.add(found[0])
    return {**settlement, **{k: found[1][k] for k in ("created_at", "key_id", "owner")}}


def merge(writes: Sequence[LedgerWrite]) -> list[LedgerWrite]:
    """The writes with each reservation that its own settlement follows in the same batch folded
    into that settlement, which then carries the reservation's admission time, key and owner: one
    row written instead of two, with the very outcome of applying both in order (a row already in
    the ledger keeps its own, as the upsert only fills in the settled columns). Under load a call's
    reservation and settlement often share a batch, so this halves the ledger's statements' rows
    and keeps the batch in one segment."""
    reserved = {w.row["request_id"]: (i, w.row) for i, w in enumerate(writes) if isinstance(w, Reservation)}
    folded: set[int] = set()
    merged: list[LedgerWrite] = []
    for i, write in enumerate(writes):
        if isinstance(write, Settlement):
            settlement = _fold(write.row, reserved.get(write.row["request_id"]), i, folded)
            write = Settlement(settlement)
        elif isinstance(write, Turn) and write.settlement is not None:
            found = reserved.get(write.settlement["request_id"])
            write = replace(write, settlement=_fold(write.settlement, found, i, folded))
        merged.append(write)
    return [w for i, w in enumerate(merged) if i not in folded]


class LedgerWriter:
    """The store's ledger queue and the task that commits it in batches."""

    def __init__(self, pool: asyncpg.Pool, durability: Durability, max_batch: int = 64) -> None:
        self._pool = pool
        self._durability = durability
        self._queue: WriteQueue[LedgerWrite] = WriteQueue(max_batch)
        self._wake = asyncio.Event()
        self._closing = False
        self._task = asyncio.get_running_loop().create_task(self._run(), name="aihub-ledger")

    def put(self, write: LedgerWrite) -> Future[None]:
        """Queue a write; the future resolves once it is committed (or fails alone)."""
        if self._closing:
            raise RuntimeError("the store is not open")
        done = self._queue.put(write)
        self._wake.set()
        return done

    async def close(self) -> None:
        """Commit everything queued, then stop."""
        self._closing = True
        self._wake.set()
        await asyncio.shield(self._task)

    async def _run(self) -> None:
        while True:
            batch = self._queue.take()
            if not batch:
                if self._closing:
                    return
                self._wake.clear()
                batch = self._queue.take()  # put() may have run between take() and clear()
                if not batch:
                    await self._wake.wait()
                    continue
            try:
                await self._commit(batch)
            except BaseException as exc:  # never leave a caller waiting
                fail(batch, exc)
                if not isinstance(exc, Exception):
                    raise

    async def _commit(self, batch: list[Queued[LedgerWrite]]) -> None:
        writes = [queued.write for queued in batch]
        try:
            await self._transaction(writes)
        except _WRITE_ERRORS:
            outcomes: list[BaseException | None] = []
            for write in writes:
                try:
                    await self._transaction([write])
                    outcomes.append(None)
                except asyncpg.PostgresError as exc:
                    outcomes.append(q.translate(exc))
            resolve(batch, outcomes)
            return
        except Exception as exc:
            fail(batch, q.translate(exc) if isinstance(exc, asyncpg.PostgresError) else exc)
            return
        resolve(batch, [None] * len(batch))

    async def _transaction(self, writes: Sequence[LedgerWrite]) -> None:
        settles = any(not isinstance(w, Reservation) for w in writes)
        durable = settles and self._durability is Durability.DURABLE
        # One round trip opens the transaction and sets how its commit reaches the disk.
        begin = f"BEGIN; SET LOCAL synchronous_commit TO {'on' if durable else 'off'}"
        for attempt in range(1, _ATTEMPTS + 1):
            async with self._pool.acquire() as conn:
                await conn.execute(begin)
                try:
                    for part in segments(merge(writes)):
                        await apply(conn, part)
                except BaseException as exc:
                    with contextlib.suppress(Exception):  # a broken connection is dropped anyway
                        await conn.execute("ROLLBACK")
                    if isinstance(exc, _RETRIED) and attempt < _ATTEMPTS:
                        log.info("ledger batch retried after %s", type(exc).__name__)
                        continue
                    raise
                await conn.execute("COMMIT")
                return
