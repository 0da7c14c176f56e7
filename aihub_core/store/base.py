"""The storage interface and its records. Every method is async; implementations never block
the event loop. Times are timezone-aware UTC datetimes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol

# `pending` marks a reservation: a call admitted and not yet settled (docs/accounting.md).
UsageStatus = Literal["pending", "ok", "error", "refused", "cancelled"]


@dataclass(frozen=True)
class UserRecord:
    id: str
    email: str
    password_hash: str
    plan: str
    created_at: datetime


@dataclass(frozen=True)
class ApiKeyRecord:
    id: str
    user_id: str
    name: str
    key_hash: str
    prefix: str
    permissions: tuple[str, ...]
    requests_per_minute: int | None
    created_at: datetime
    last_used: datetime | None = None


@dataclass(frozen=True)
class StoredMessage:
    """One stored turn of a session: role `user` or `assistant`, with its images (base64)."""

    role: Literal["user", "assistant"]
    content: str
    created_at: datetime
    images: tuple[str, ...] = ()


@dataclass(frozen=True)
class UsageRecord:
    """One call as charged. Keyed by request id: a call is reserved (status `pending`) when admitted
    and settled once; settling an already settled id keeps the first settlement."""

    request_id: str
    user_id: str
    key_id: str | None
    service: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    status: UsageStatus
    usage_source: Literal["provider", "estimated", "none"]
    created_at: datetime
    session_id: str | None = None
    response_time_ms: int = 0


@dataclass(frozen=True)
class IdempotencyRecord:
    """A claimed Idempotency-Key: the request it belongs to and, once done, the stored answer."""

    user_id: str
    key: str
    request_hash: str
    request_id: str
    created_at: datetime
    response: bytes | None = None

    @property
    def done(self) -> bool:
        return self.response is not None


@dataclass(frozen=True)
class DailyTotals:
    day: date
    requests: int
    tokens: int
    cost_usd: float


class Store(Protocol):
    """Users, API keys, sessions and the usage ledger."""

    async def open(self) -> None:
        """Connect and apply pending migrations."""
        ...

    async def close(self) -> None:
        """Finish pending writes and release the connection."""
        ...

    # users
    async def create_user(self, user: UserRecord) -> None:
        """Insert a user; raises ConflictError if the email is taken."""
        ...

    async def get_user(self, user_id: str) -> UserRecord | None: ...

    async def get_user_by_email(self, email: str) -> UserRecord | None: ...

    async def set_plan(self, email: str, plan: str) -> bool:
        """Change a user's plan; False if there is no such user."""
        ...

    async def auth_generation(self) -> int:
        """A number that changes whenever a committed write may change what `get_api_key_by_hash`
        or `get_user` return for a key or user that exists: a plan change, a key deletion, any
        change to a user or to a key's permissions or limit (not `touch_api_key`; not new users
        or keys, since nothing caches an absent one). Writes of every process count, and the
        number changes in the same transaction as the write, so it is current the moment the
        write returns.

        It is read on every authenticated request so that callers can cache those records: read
        it before reading the records, keep them under it, and drop them all once it differs.
        So it must cost far less than a store read (SQLite: a one-row read on a connection of
        its own, never the worker's queue)."""
        ...

    # API keys
    async def create_api_key(self, key: ApiKeyRecord) -> None: ...

    async def get_api_key_by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        """The live (not deleted) key with this hash."""
        ...

    async def list_api_keys(self, user_id: str) -> list[ApiKeyRecord]:
        """The user's live keys, newest first."""
        ...

    async def delete_api_key(self, user_id: str, key_id: str) -> bool:
        """Delete one of the user's keys; False if the user has no such live key."""
        ...

    async def touch_api_key(self, key_id: str, when: datetime) -> None:
        """Record that a key was used."""
        ...

    # sessions
    async def session_messages(
        self, user_id: str, session_id: str, newest: int | None = None
    ) -> list[StoredMessage] | None:
        """The session's turns (only the `newest` if given), oldest first; None if there is none."""
        ...

    async def append_turn(
        self,
        user_id: str,
        session_id: str,
        user_message: StoredMessage,
        assistant_message: StoredMessage,
        usage: UsageRecord | None = None,
    ) -> None:
        """Store a user turn and its answer (creating the session if new), and settle the usage
        record if given (as `record_usage` does), in one transaction."""
        ...

    # usage ledger
    def queue_reservation(self, record: UsageRecord) -> None:
        """Queue what `reserve_usage` writes and return at once: for a caller that need not wait
        for it before calling the provider. The row is written before any write queued after it
        (so before the call's settlement); a failure is logged, and the settlement still records
        the call (it inserts the row when none was reserved)."""
        ...

    async def reserve_usage(self, record: UsageRecord) -> None:
        """Write the `pending` row of an admitted call; an id already in the ledger is left alone."""
        ...

    async def record_usage(self, record: UsageRecord) -> None:
        """Settle a call: turn its pending row into this record (or insert it if there is none).
        A settled row is never changed: a second settlement of the same request id is ignored.
        The call returns once the record is committed."""
        ...

    async def recover_pending(self, now: datetime, owner: str | None = None) -> int:
        """Settle every reservation left `pending` by a process that died as an uncharged, recovered
        `error`; return how many. Without `owner`, only for start-up: it would also settle live
        calls. With it, only the reservations of that owner (a store opened with that `owner`):
        for a dead worker while the others run on."""
        ...

    async def daily_usage(self, user_id: str, first: date, last: date) -> list[DailyTotals]:
        """Totals per UTC day with at least one billable record, first..last inclusive, oldest first.
        Billable: status ok, error or cancelled (refused requests cost nothing, pending ones are not
        settled yet, and neither is counted)."""
        ...

    async def count_requests(self, user_id: str, since: datetime) -> int:
        """Requests counted against the monthly quota since a moment: billable and pending ones."""
        ...

    # idempotency keys
    async def claim_idempotency_key(
        self, claim: IdempotencyRecord, expired_before: datetime
    ) -> IdempotencyRecord | None:
        """Claim a key for a call (None), or return the live claim already holding it. A claim made
        before `expired_before` is dropped first, so keys can be reused after they expire."""
        ...

    async def complete_idempotency_key(self, user_id: str, key: str, response: bytes) -> None:
        """Store the answer of a claimed key's call, for replays."""
        ...

    async def release_idempotency_key(self, user_id: str, key: str) -> None:
        """Drop a pending claim whose call failed, so a retry runs afresh."""
        ...

    async def release_pending_idempotency_keys(self, owner: str | None = None) -> int:
        """Drop every pending claim (at start: their calls died with an earlier process), or only
        those of `owner` (as `recover_pending`)."""
        ...
