"""Plans: rate limits and the monthly request quota, from the spec's table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aihub_core.errors import InvalidRequestError


@dataclass(frozen=True)
class Plan:
    """A plan's limits; 0 means no limit. The input limits (`limits.input_size`) may be left
    unset (None): the operator's default (AIHUB_MAX_INPUT_CHARS, AIHUB_MAX_INPUT_IMAGE_BYTES)
    applies then."""

    name: str
    requests_per_minute: int
    tokens_per_minute: int
    concurrent_requests: int
    monthly_requests: int
    max_input_chars: int | None = None
    max_input_image_bytes: int | None = None
    # What each user of the plan may spend a calendar month, in pico-USD (`monthly_budget_usd` in
    # AIHUB_CONFIG; limits/spend.py); None: no budget.
    monthly_budget: int | None = None


DEFAULT_PLAN = "free"

# The spec's table (免费版/专业版/企业版); the monthly quotas are ours: the spec's example
# shows 10,000 for professional.
BUILTIN_PLANS: Mapping[str, Plan] = {
    "free": Plan("free", 20, 5_000, 3, 1_000),
    "professional": Plan("professional", 60, 15_000, 10, 10_000),
    "enterprise": Plan("enterprise", 200, 50_000, 25, 100_000),
}


class Plans:
    """The built-in plans plus any an operator configured."""

    def __init__(self, extra: Mapping[str, Plan] | None = None) -> None:
        self._plans = {**BUILTIN_PLANS, **(extra or {})}

    def get(self, name: str) -> Plan:
        """The named plan; unknown names (a plan removed from config) fall back to free."""
        return self._plans.get(name) or self._plans[DEFAULT_PLAN]

    def all(self) -> list[Plan]:
        """Every plan: the built-in ones first, then the operator's in configuration order (an
        operator's plan of a built-in name replaces it in place)."""
        return list(self._plans.values())

    def require(self, name: str) -> Plan:
        """The named plan, or a 400 listing the known ones."""
        try:
            return self._plans[name]
        except KeyError:
            raise InvalidRequestError(
                f"Unknown plan {name!r}; known plans: {', '.join(self._plans)}", param="plan"
            ) from None
