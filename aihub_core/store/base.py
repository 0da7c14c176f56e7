"""The storage contract: its records and the `Store` protocol, which every backend implements.

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

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Literal, Protocol

from aihub_core.pricing import usd

# `pending` marks a reservation: a call admitted and not yet settled (docs/accounting.md).
UsageStatus = Literal["pending", "ok", "error", "refused", "cancelled"]


# A user's roles: `admin` marks an operator.
ROLES = ("user", "admin")


@dataclass(frozen=True)
class UserRecord:
    id: str
    email: str
    password_hash: str
    plan: str
    created_at: datetime
    # `user`, or `admin` (an operator: `aihub users set-role EMAIL admin`).
    role: str = "user"
    budget_pico_usd: int | None = None
    """The user's own budget in pico-USD per `budget_period` (`aihub users set-budget`); None: none."""
    budget_period: str | None = None
    alert_count: int = 0
    """How many usage alerts the user holds (kept by `create_alert` and `delete_alert`): a cached
    caller knows at no cost whether its settlements need an alert check."""


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
    expires_at: datetime | None = None
    """When the key stops working (every secret of it); None: never."""
    rotated_at: datetime | None = None
    """When its secret was last replaced (`rotate_api_key`); None: never rotated."""
    budget_pico_usd: int | None = None
    """The key's budget in pico-USD per `budget_period`; None: no budget."""
    budget_period: str | None = None
    """`day` or `month` (UTC), with `budget_pico_usd`; None without a budget."""
    secret_expires_at: datetime | None = None
    """Set only on a key found by a rotated-out secret (`get_api_key_by_hash`): when that old
    secret stops working (perhaps already past). Not a column of the key."""


@dataclass(frozen=True)
class RotatedSecret:
    """A key's new secret, as `rotate_api_key` stores it, and how long the old one keeps working."""

    key_hash: str
    prefix: str
    rotated_at: datetime
    old_secret_until: datetime


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
    cost_pico_usd: int
    status: UsageStatus
    usage_source: Literal["provider", "estimated", "none"]
    created_at: datetime
    session_id: str | None = None
    response_time_ms: int = 0


@dataclass(frozen=True)
class UsageLogQuery:
    """Which ledger rows `usage_logs` returns, newest first: the filters (None: any), the page's
    start (`after`, a keyset cursor) and its length."""

    model: str | None = None
    status: UsageStatus | None = None
    key_id: str | None = None
    start: datetime | None = None
    """Rows created at or after this moment."""
    end: datetime | None = None
    """Rows created before this moment (exclusive)."""
    after: tuple[datetime, str] | None = None
    """The (`created_at`, `request_id`) of the last row of the previous page: only rows after it,
    in newest-first order, come back."""
    limit: int = 100


@dataclass(frozen=True)
class UsageLogEntry:
    """One ledger row as a request log shows it: the call's record (`created_at`: when it was
    admitted), the name of its key (None for a call made with a JWT) and when it was settled
    (None while pending)."""

    record: UsageRecord
    key_name: str | None
    settled_at: datetime | None

    @property
    def cursor(self) -> tuple[datetime, str]:
        """Where the page after this row starts (`UsageLogQuery.after`)."""
        return (self.record.created_at, self.record.request_id)


@dataclass(frozen=True)
class AlertRecord:
    """A user's usage alert (`aihub_core.alerts`): `metric` crossing `threshold` of `of`
    (`budget`, `quota`), or crossing `amount` per `period` (`of` empty, `threshold` 0)."""

    id: str
    user_id: str
    name: str
    metric: str
    threshold: float
    of: str
    amount: int
    """The absolute amount: pico-USD for `cost_usd`, a count for `requests` and `tokens`; 0 when
    relative."""
    period: str
    """`day` or `month` for an absolute alert; empty for a relative one (its budget's or quota's)."""
    created_at: datetime
    last_fired_at: datetime | None = None


@dataclass(frozen=True)
class AlertEvent:
    """One crossing of an alert in one period (`period_key`, `spend.period_name`): the webhook
    outbox's row. `payload` is the JSON body sent; `deliver` False records the crossing only
    (no webhook configured)."""

    id: str
    alert_id: str
    user_id: str
    period_key: str
    payload: str
    created_at: datetime
    deliver: bool = True


@dataclass(frozen=True)
class AlertDelivery:
    """An outbox row claimed for one delivery attempt: its event and how often it was tried."""

    event_id: str
    payload: str
    attempts: int


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
    """One UTC day's billable calls: how many, their tokens and their exact cost."""

    day: date
    requests: int
    tokens: int
    cost_pico_usd: int

    @property
    def cost_usd(self) -> float:
        """The day's cost as the double nearest its exact value."""
        return usd(self.cost_pico_usd)


@dataclass(frozen=True)
class ModelTotals:
    """One (service, model)'s billable calls over a range of days: how many, their tokens and cost."""

    service: str
    model: str
    requests: int
    tokens: int
    cost_pico_usd: int


@dataclass(frozen=True)
class Recovered:
    """What one `recover_abandoned` settled and freed, and the leases it ended."""

    reservations: int = 0
    claims: int = 0
    owners: tuple[str, ...] = ()


class SchemaTooNewError(RuntimeError):
    """The database was migrated by a newer AI Hub than this one: refused rather than guessed at,
    since an older binary writing to a newer schema is how ledgers get corrupted."""


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


class Store(Protocol):
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

    # users
    async def create_user(self, user: UserRecord) -> None:
        """Insert a user; ConflictError if the email (case-insensitively, param `email`) or the id
        is taken."""
        ...

    async def get_user(self, user_id: str) -> UserRecord | None:
        """The user with this id, its email as stored (see `get_user_by_email`)."""
        ...

    async def get_user_by_email(self, email: str) -> UserRecord | None:
        """The user with this email, compared case-insensitively: emails are stored stripped of
        surrounding spaces and lower-cased (`str.lower`, all of Unicode, not only ASCII)."""
        ...

    async def set_plan(self, email: str, plan: str) -> bool:
        """Change a user's plan (email as in `get_user_by_email`); False if there is no such user."""
        ...

    async def set_user_budget(self, email: str, limit_pico_usd: int | None, period: str | None) -> bool:
        """Set (or, with None, remove) a user's budget per `period` (`day` or `month`); False if
        there is no such user. Moves the auth generation, as every change of a user does."""
        ...

    async def list_users(self) -> list[UserRecord]:
        """Every user, oldest first (ties by id)."""
        ...

    async def set_role(self, email: str, role: str) -> bool:
        """Change a user's role (one of `ROLES`; email as in `get_user_by_email`); False if there
        is no such user."""
        ...

    async def revoke_token(self, token_id: str, user_id: str, expires_at: datetime, now: datetime) -> None:
        """Refuse the login token `token_id` (its `jti`) from now until `expires_at`, in every store
        sharing the database (`token_revoked`), and move `revocations`; revoking it again refuses
        nothing new. Tokens whose
        `expires_at` is at or before `now` are forgotten (they are refused as expired anyway)."""
        ...

    async def token_revoked(self, token_id: str) -> bool:
        """Whether a log-out revoked the login token `token_id` (one indexed read)."""
        ...

    async def revocations(self) -> int:
        """A counter that every `revoke_token` moves, in the same transaction, read as cheaply as
        `auth_generation`: a token found live (`token_revoked` False) after reading it stays live
        while it has not moved. Log-outs never move the auth generation."""
        ...

    async def auth_generation(self) -> int:
        """A number that changes whenever a committed write may change what `get_api_key_by_hash`
        or `get_user` return for a key or user that exists: a plan change, a key deletion, any
        change to a user or to a key's permissions or limit (not `touch_api_key`; not new users
        or keys, since nothing caches an absent one). Writes of every process count, and the
        number changes in the same transaction as the write, so it is current the moment the
        write returns. A write that changes nothing (no such user, a key already deleted) need
        not change it.

        It is read on every authenticated request so that callers can cache those records: read
        it before reading the records, keep them under it, and drop them all once it differs.
        So it must cost far less than a store read: it may not wait behind the store's other
        calls."""
        ...

    # API keys
    async def create_api_key(self, key: ApiKeyRecord) -> None:
        """Insert a key; ConflictError on a duplicate id or hash, NotFoundError for an unknown user."""
        ...

    async def get_api_key_by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        """The live (not deleted) key with this hash: its current secret's (`secret_expires_at`
        None), or a secret it was rotated away from (`secret_expires_at` set, see
        `rotate_api_key`)."""
        ...

    async def list_api_keys(self, user_id: str) -> list[ApiKeyRecord]:
        """The user's live keys, newest first."""
        ...

    async def rotate_api_key(self, user_id: str, key_id: str, secret: RotatedSecret) -> ApiKeyRecord | None:
        """Give one of the user's live keys a new secret (`secret.key_hash`, `secret.prefix`) and
        set its `rotated_at`, in one transaction that also keeps the old hash: until
        `secret.old_secret_until` `get_api_key_by_hash` still finds the key by it (with
        `secret_expires_at` set), and after that too, so that the old secret is told apart from
        an unknown one. Every other field of the key stays. The key as it is now, or None if the
        user has no such live key. ConflictError if the new hash was ever used."""
        ...

    async def delete_api_key(self, user_id: str, key_id: str) -> bool:
        """Delete one of the user's keys; False if the user has no such live key. Its hash is never
        found again (nor can it be issued again: the deleted key keeps it)."""
        ...

    async def touch_api_key(self, key_id: str, when: datetime) -> None:
        """Record that a key was used at `when`; `last_used` only ever moves forward, so a late,
        older touch changes nothing."""
        ...

    # sessions
    async def session_messages(
        self, user_id: str, session_id: str, newest: int | None = None
    ) -> list[StoredMessage] | None:
        """The session's turns in the order they were appended (only the `newest` if given), oldest
        first; None if there is none. Sessions are per user: another user's session of the same id
        is another session."""
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
        record if given (as `record_usage` does), in one transaction: on any failure nothing of it
        is written. NotFoundError for an unknown user."""
        ...

    # usage ledger
    def queue_reservation(self, record: UsageRecord) -> None:
        """Queue what `reserve_usage` writes and return at once: for a caller that need not wait
        for it before calling the provider. The row is written before any later write this store
        makes for the same request id (so before the call's settlement), and by the time `close`
        returns; a failure is logged, and the settlement still records the call (it inserts the
        row when none was reserved)."""
        ...

    async def reserve_usage(self, record: UsageRecord) -> None:
        """Write the `pending` row of an admitted call, tagged with the store's owner; an id already
        in the ledger is left alone. ValueError unless the record is `pending`; NotFoundError for
        an unknown user. The row counts against the quota (`count_requests`) at once."""
        ...

    async def record_usage(self, record: UsageRecord) -> None:
        """Settle a call: turn its pending row into this record (or insert it if there is none).
        The row keeps the moment it was reserved (`created_at`) and the reservation's key; the
        record's time is when it was settled (`settled_at`); its other fields fill in the row.
        A settled row is never changed: a second settlement of the same request id is ignored,
        and so is one naming another user than the reservation's. ValueError for a `pending`
        record; NotFoundError for an unknown user. The call returns once the record is
        committed, as durably as the store's `Durability` says."""
        ...

    # leases and recovery
    async def renew_lease(self) -> bool:
        """Extend this store's lease to now + its length; True if it was still held. False if it
        had ended meanwhile (this process stalled longer than the lease, and another store
        recovered its work): it is taken anew, and that loss logged."""
        ...

    async def recover_abandoned(self) -> Recovered:
        """Recover the work no live store holds, exactly once however many stores try at the same
        time: end the leases that expired (by the store's clock) or whose process is gone from
        this machine, then settle every `pending` reservation whose owner holds no lease as an
        uncharged, recovered `error` (0 tokens, cost 0, usage source `none`, settled now, marked
        recovered) and drop every pending Idempotency-Key claim whose owner holds none. Never this
        store's own, nor a live sibling's. A settlement arriving later for a recovered row is
        ignored, as any second settlement is."""
        ...

    async def daily_usage(self, user_id: str, first: date, last: date) -> list[DailyTotals]:
        """Totals per UTC day with at least one billable record, first..last inclusive, oldest first.
        Billable: status ok, error or cancelled (refused requests cost nothing, pending ones are not
        settled yet, and neither is counted). A record's day is that of its `created_at`. A day's
        cost is the exact sum of its records' costs, so totals equal the sum of the costs the
        responses reported. Its time does not grow with the number of records (a daily rollup
        kept in the settlement's transaction)."""
        ...

    async def gateway_daily_usage(self, first: date, last: date) -> list[DailyTotals]:
        """As `daily_usage`, summed over every user: the whole gateway's totals per UTC day with at
        least one billable record, first..last inclusive, oldest first (from the daily rollup)."""
        ...

    async def top_models(self, first: date, last: date, limit: int) -> list[ModelTotals]:
        """The (service, model)s of the billable records created on the UTC days first..last
        (inclusive), every user's, most costly first (then most requests, then by service and
        model), at most `limit` (1 to 1000, else ValueError). Reads only the range's records
        (through the ledger's (user, created_at) index)."""
        ...

    async def count_requests(self, user_id: str, since: datetime) -> int:
        """Requests counted against the monthly quota since a moment (inclusive): billable and
        pending ones. From midnight UTC its time does not grow with the number of records."""
        ...

    async def key_spent(self, key_id: str, since: datetime) -> int:
        """The cost (pico-USD) of the calls made with a key that the ledger settled as billable
        (`ok`, `error`, `cancelled`), admitted since a moment (inclusive): where a key's budget
        starts from."""
        ...

    async def user_spent(self, user_id: str, since: datetime) -> int:
        """As `key_spent`, for every call of a user (any key, or a login token)."""
        ...

    async def usage_logs(self, user_id: str, query: UsageLogQuery) -> list[UsageLogEntry]:
        """The user's ledger rows that match the query's filters (every status, pending included),
        newest first: by `created_at`, then `request_id`, both descending, at most `limit` of them
        (1 to 10,000, else ValueError), starting after `query.after`. Keyset paging: a row written
        after a page was read never shifts the rows of the later pages (a new call is newer than
        every row already listed), so paging to the end lists every row that existed at the
        start exactly once. Each row carries its key's name, a deleted key's included."""
        ...

    # usage alerts and their webhook outbox
    async def create_alert(self, alert: AlertRecord) -> None:
        """Insert an alert and count it in its user's `alert_count` (which moves the auth
        generation); NotFoundError for an unknown user, ConflictError for a duplicate id."""
        ...

    async def list_alerts(self, user_id: str) -> list[AlertRecord]:
        """The user's alerts, oldest first (ties by id)."""
        ...

    async def delete_alert(self, user_id: str, alert_id: str) -> bool:
        """Delete one of the user's alerts and uncount it; False if the user has no such alert.
        Its events already recorded stay, and those still to be delivered are delivered."""
        ...

    async def fire_alert(self, event: AlertEvent) -> bool:
        """Record a crossing and set its alert's `last_fired_at` to the event's time, unless the
        alert already fired in that period: exactly one event per (alert_id, period_key) however
        many stores try at once. True if this call recorded it."""
        ...

    async def alert_events(self, user_id: str, since: datetime) -> list[AlertEvent]:
        """The user's events recorded at or after a moment, oldest first."""
        ...

    async def claim_alert_deliveries(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[AlertDelivery]:
        """Claim up to `limit` undelivered events to deliver whose next attempt is due by `now` and
        that no live claim holds (a claim lasts until `lease_until`, so one left by a process
        that died is taken again after it): each claimed by one store at a time, oldest first."""
        ...

    async def finish_alert_delivery(
        self, event_id: str, delivered_at: datetime | None, next_attempt_at: datetime, error: str
    ) -> None:
        """End an attempt: count it, drop the claim, and mark the event delivered (`delivered_at`)
        or due again at `next_attempt_at` with its `error`. An event already delivered stays so
        (a late failure of an attempt whose claim had lapsed changes nothing)."""
        ...

    # idempotency keys
    async def claim_idempotency_key(
        self, claim: IdempotencyRecord, expired_before: datetime
    ) -> IdempotencyRecord | None:
        """Claim a key for a call (None), tagged with the store's lease, or return the live claim
        already holding it, as it was claimed (its request hash and id, and its answer once
        done), whatever the new claim's request hash. A claim made before `expired_before` (strictly)
        is dropped first, so keys can be reused after they expire. Keys are per user."""
        ...

    async def complete_idempotency_key(self, user_id: str, key: str, response: bytes) -> None:
        """Store the answer (any bytes) of a claimed key's call, for replays."""
        ...

    async def release_idempotency_key(self, user_id: str, key: str) -> None:
        """Drop a pending claim whose call failed, so a retry runs afresh; a done claim stays."""
        ...
