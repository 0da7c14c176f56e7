"""The typed answers of the AI Hub API: frozen dataclasses with the REST field names.

Each top-level answer keeps the decoded JSON body in `raw` (left out of repr and comparisons), so
fields a newer gateway adds are reachable before the SDK names them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal


def _raw() -> Any:
    return field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class Usage:
    """Token counts and the unrounded cost of one request."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    estimated_cost_usd: float = 0.0


@dataclass(frozen=True)
class RateLimit:
    """The `X-RateLimit-*` headers of a key-authenticated answer; `reset` is Unix epoch seconds."""

    limit: int | None = None
    remaining: int | None = None
    reset: int | None = None


@dataclass(frozen=True)
class ChatMetadata:
    """How the gateway served a chat request."""

    response_time_ms: int | None = None
    service_used: str | None = None
    simulated: bool = False
    finish_reason: str | None = None
    request_id: str | None = None
    raw: Mapping[str, Any] = _raw()


@dataclass(frozen=True)
class ChatResponse:
    """The answer of `POST /v1/developer/chat`."""

    message: str
    model: str
    session_id: str | None
    usage: Usage
    metadata: ChatMetadata
    request_id: str | None = None
    rate_limit: RateLimit | None = None
    raw: Mapping[str, Any] = _raw()


@dataclass(frozen=True)
class ContentEvent:
    """A piece of the answer's text."""

    content: str
    model: str | None = None
    type: Literal["content"] = "content"


@dataclass(frozen=True)
class SessionEvent:
    """The conversation's session id; pass it as `session_id` to continue the conversation."""

    session_id: str
    type: Literal["session"] = "session"


@dataclass(frozen=True)
class UsageEvent:
    """Usage and cost of the whole streamed answer."""

    usage: Usage
    metadata: ChatMetadata | None = None
    type: Literal["usage"] = "usage"


@dataclass(frozen=True)
class DoneEvent:
    """The stream completed normally."""

    type: Literal["done"] = "done"


StreamEvent = ContentEvent | SessionEvent | UsageEvent | DoneEvent


@dataclass(frozen=True)
class ModelPricing:
    """US dollars per prompt and per completion token."""

    prompt: float = 0.0
    completion: float = 0.0


@dataclass(frozen=True)
class Model:
    """One model of the catalog."""

    id: str
    name: str
    description: str = ""
    context_length: int | None = None
    pricing: ModelPricing = field(default_factory=ModelPricing)
    capabilities: tuple[str, ...] = ()
    service: str | None = None
    category: str | None = None
    aliases: tuple[str, ...] = ()
    raw: Mapping[str, Any] = _raw()


@dataclass(frozen=True)
class ModelList:
    """The answer of `GET /v1/developer/models`; iterating it yields the models."""

    models: tuple[Model, ...]
    total_count: int
    service: str | None = None
    next_page_token: str = ""
    request_id: str | None = None
    raw: Mapping[str, Any] = _raw()

    def __iter__(self) -> Iterator[Model]:
        return iter(self.models)

    def __len__(self) -> int:
        return len(self.models)


@dataclass(frozen=True)
class ServiceList:
    """The answer of `GET /v1/developer/services`."""

    services: tuple[str, ...]
    default: str | None
    capabilities: Mapping[str, Mapping[str, Any]]
    simulated: Mapping[str, bool] = field(default_factory=dict)
    request_id: str | None = None
    raw: Mapping[str, Any] = _raw()


@dataclass(frozen=True)
class DailyUsage:
    """One day of a usage report."""

    date: str
    requests: int = 0
    tokens: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True)
class UsageReport:
    """The answer of `GET /v1/developer/usage`."""

    period: str | None
    total_requests: int
    total_tokens: int
    total_cost_usd: float
    start_date: str | None = None
    end_date: str | None = None
    quota_limit: int | None = None
    quota_used: int | None = None
    quota_remaining: int | None = None
    daily_breakdown: tuple[DailyUsage, ...] = ()
    request_id: str | None = None
    raw: Mapping[str, Any] = _raw()


@dataclass(frozen=True)
class UsageGroup:
    """One model's, or one API key's, share of a usage breakdown. `key_id` is empty for the
    calls made with a login token (and `model` in a key's group, `key_id` in a model's)."""

    model: str = ""
    key_id: str = ""
    key_name: str = ""
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True)
class UsageBreakdown:
    """The answer of `GET /v1/developer/usage/breakdown`: the window's usage by model and by key,
    most costly first; each list adds up to `GET /usage`'s totals for the same window."""

    period: str | None
    start_date: str | None = None
    end_date: str | None = None
    by_model: tuple[UsageGroup, ...] = ()
    by_key: tuple[UsageGroup, ...] = ()
    request_id: str | None = None
    raw: Mapping[str, Any] = _raw()


@dataclass(frozen=True)
class UsageLog:
    """One call as the gateway's ledger recorded it (never its prompt or answer)."""

    request_id: str
    created_at: str | None = None
    key_id: str = ""
    key_name: str = ""
    service: str = ""
    model: str = ""
    status: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    usage_source: str = ""
    response_time_ms: int = 0
    session_id: str = ""


@dataclass(frozen=True)
class UsageLogPage:
    """The answer of `GET /v1/developer/usage/logs`: calls newest first; iterating it yields them.
    Pass `next_page_token` back as `page_token` for the next page ('' on the last)."""

    logs: tuple[UsageLog, ...]
    next_page_token: str = ""
    request_id: str | None = None
    raw: Mapping[str, Any] = _raw()

    def __iter__(self) -> Iterator[UsageLog]:
        return iter(self.logs)

    def __len__(self) -> int:
        return len(self.logs)


@dataclass(frozen=True)
class RateLimitPolicy:
    """Configured limits of a plan or an API key."""

    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    concurrent_requests: int | None = None


@dataclass(frozen=True)
class KeyBudget:
    """An API key's budget: `limit_usd` per `period` (`day` or `month`, UTC)."""

    limit_usd: float
    period: str


@dataclass(frozen=True)
class SpendBudget:
    """A budget in USD in its current period, as `/quota` shows it: `spent_usd` is the ledger's
    settled spend, `reserved_usd` the worst cases of the calls in flight."""

    scope: str
    period: str
    limit_usd: float
    spent_usd: float
    reserved_usd: float
    resets_at: str | None = None


@dataclass(frozen=True)
class Quota:
    """The answer of `GET /v1/developer/quota`."""

    plan: str
    quota_limit: int | None
    quota_used: int
    quota_remaining: int | None
    reset_date: str | None
    rate_limit: RateLimitPolicy
    budgets: tuple[SpendBudget, ...] = ()
    request_id: str | None = None
    raw: Mapping[str, Any] = _raw()


@dataclass(frozen=True)
class ApiKey:
    """An API key as listed; `key` (the secret) is None except in a CreatedApiKey."""

    id: str
    name: str
    created_at: str | None = None
    permissions: tuple[str, ...] = ()
    last_used: str | None = None
    rate_limit: RateLimitPolicy | None = None
    prefix: str | None = None
    expires_at: str | None = None
    rotated_at: str | None = None
    budget: KeyBudget | None = None
    key: str | None = field(default=None, repr=False)
    request_id: str | None = None
    raw: Mapping[str, Any] = _raw()


@dataclass(frozen=True)
class CreatedApiKey(ApiKey):
    """The answer of `api_keys.create`: an ApiKey whose `key` (the secret) is set, shown this once."""

    key: str = field(default="", repr=False)


@dataclass(frozen=True)
class RotatedApiKey(CreatedApiKey):
    """The answer of `api_keys.rotate`: the same key with a new secret in `key`, shown this once;
    the old secret works until `previous_key_expires_at`."""

    previous_key_expires_at: str | None = None


@dataclass(frozen=True)
class ApiKeyList:
    """The answer of `GET /v1/developer/api-keys`; iterating it yields the keys."""

    api_keys: tuple[ApiKey, ...]
    total_count: int
    next_page_token: str = ""
    request_id: str | None = None
    raw: Mapping[str, Any] = _raw()

    def __iter__(self) -> Iterator[ApiKey]:
        return iter(self.api_keys)

    def __len__(self) -> int:
        return len(self.api_keys)


@dataclass(frozen=True)
class DeletedApiKey:
    """The answer of `DELETE /v1/developer/api-keys/{key_id}`."""

    id: str
    deleted: bool
    request_id: str | None = None
    raw: Mapping[str, Any] = _raw()


@dataclass(frozen=True)
class AlertFigures:
    """What an alert measures now: the usage this period and the amount it fires at (USD for
    `cost_usd`, a count for `requests` and `tokens`)."""

    observed: float
    limit: float


@dataclass(frozen=True)
class Alert:
    """A usage alert: `threshold` of `of` (`budget` or `quota`), or an absolute `value` per
    `period`; the gateway's webhook and `quota/watch` hear when it fires, once per period."""

    id: str
    name: str
    metric: str
    threshold: float
    of: str
    value: float
    period: str
    created_at: str | None
    last_fired_at: str | None
    current: AlertFigures
    raw: Mapping[str, Any] = _raw()


@dataclass(frozen=True)
class CreatedAlert:
    """The answer of `POST /v1/developer/alerts`: the new alert."""

    alert: Alert
    request_id: str | None = None
    raw: Mapping[str, Any] = _raw()


@dataclass(frozen=True)
class AlertList:
    """The answer of `GET /v1/developer/alerts`, oldest first; iterating it yields the alerts."""

    alerts: tuple[Alert, ...]
    request_id: str | None = None
    raw: Mapping[str, Any] = _raw()

    def __iter__(self) -> Iterator[Alert]:
        return iter(self.alerts)

    def __len__(self) -> int:
        return len(self.alerts)


@dataclass(frozen=True)
class DeletedAlert:
    """The answer of `DELETE /v1/developer/alerts/{alert_id}`."""

    id: str
    deleted: bool
    request_id: str | None = None
    raw: Mapping[str, Any] = _raw()


@dataclass(frozen=True)
class TokenInfo:
    """The answer of register and login: a JWT for managing API keys."""

    user_id: str
    email: str
    token: str = field(repr=False)
    expires_at: str | None = None
    # `user`, or `admin` (an operator of the gateway).
    role: str = "user"
    request_id: str | None = None
    raw: Mapping[str, Any] = _raw()
