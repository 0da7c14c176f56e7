"""Who is calling: the result of authentication, passed to the services as plain data."""

from __future__ import annotations

from dataclasses import dataclass

from aihub_core.limits.plans import Plan
from aihub_core.limits.spend import SpendLimit


@dataclass(frozen=True)
class Caller:
    """An authenticated user, and the API key used if any (None for a JWT)."""

    user_id: str
    plan: Plan
    key_id: str | None = None
    permissions: frozenset[str] = frozenset()
    key_requests_per_minute: int | None = None
    # The key's budget in USD per period (limits/spend.py), if it has one.
    key_budget: SpendLimit | None = None
    # The user's own budget in USD per period (`aihub users set-budget`), if any.
    user_budget: SpendLimit | None = None
    # Whether the user holds usage alerts: only then does a settlement check them (aihub_core.alerts).
    has_alerts: bool = False
