"""What several answers share: token usage, rate-limit headers, the raw body."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def raw_field() -> Any:
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
