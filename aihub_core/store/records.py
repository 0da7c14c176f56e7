"""The storage contract's records: what a store takes and gives back, plain frozen dataclasses.

A backend stores them as rows (`rows`); the protocols (`protocols/`) say what each method does
with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

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
class GroupTotals:
    """One group of a user's billable calls over a range of days (a model, or an API key): how
    many, their tokens and their exact cost. `key_id` and `key_name` are None in a model's group,
    and in the key group of the calls made with a login token."""

    model: str | None
    key_id: str | None
    key_name: str | None
    requests: int
    prompt_tokens: int
    completion_tokens: int
    cost_pico_usd: int

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class UsageBreakdown:
    """A user's billable calls over a range of days, grouped by model and by key, each list most
    costly first (then most requests, then by model or key id)."""

    by_model: list[GroupTotals]
    by_key: list[GroupTotals]


@dataclass(frozen=True)
class Recovered:
    """What one `recover_abandoned` settled and freed, and the leases it ended."""

    reservations: int = 0
    claims: int = 0
    owners: tuple[str, ...] = ()
