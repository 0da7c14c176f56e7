"""Limits and budgets as `/quota` shows them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._common import raw_field


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
    raw: Mapping[str, Any] = raw_field()
