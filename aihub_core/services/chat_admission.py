"""What admission needs to know of a prepared chat: its token estimate, and whether it can ever fit."""

from __future__ import annotations

from aihub_core.errors import InvalidRequestError
from aihub_core.identity import Caller
from aihub_core.services.chat import PreparedChat
from aihub_core.services.conversation import DEFAULT_ANSWER_RESERVE
from aihub_core.tokens import estimate_messages


def token_estimate(chat: PreparedChat) -> int:
    """Tokens the call may use: the prompt plus max_tokens (or the default answer reserve)."""
    answer = chat.upstream.max_tokens
    if answer is None:
        answer = min(DEFAULT_ANSWER_RESERVE, chat.model.max_output_tokens)
    return estimate_messages(chat.upstream.messages) + answer


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
