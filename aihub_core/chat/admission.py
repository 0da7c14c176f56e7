"""What a chat call asks of the limits, and the 400 for a call that could never be admitted."""

from __future__ import annotations

from aihub_core.errors import InvalidRequestError
from aihub_core.identity import Caller
from aihub_core.limits.rules import Demand


def chat_demand(tokens: int) -> Demand:
    """A chat call holds its token estimate and a concurrency slot until it ends, and counts
    against the monthly quota."""
    return Demand(tokens=tokens, concurrent=True, counts_quota=True)


def check_fits_plan(caller: Caller, tokens: int) -> None:
    """A call larger than the plan's whole tokens/minute could never be admitted: say so now."""
    limit = caller.plan.tokens_per_minute
    if limit and tokens > limit:
        raise InvalidRequestError(
            f"This request may use about {tokens} tokens, more than the {limit} tokens per minute of the "
            f"{caller.plan.name} plan; lower max_tokens or shorten the conversation",
            code="request_exceeds_token_limit",
            param="max_tokens",
        )
