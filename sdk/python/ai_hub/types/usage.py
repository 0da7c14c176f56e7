"""Usage reports: daily figures, breakdowns by model and key, the request log."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ._common import raw_field


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
    raw: Mapping[str, Any] = raw_field()


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
    raw: Mapping[str, Any] = raw_field()


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
    raw: Mapping[str, Any] = raw_field()

    def __iter__(self) -> Iterator[UsageLog]:
        return iter(self.logs)

    def __len__(self) -> int:
        return len(self.logs)
