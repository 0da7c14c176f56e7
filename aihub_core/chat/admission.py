"""What a chat or embedding call asks of the limits, and the 400 for a call that could never be
admitted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aihub_core.chat.conversation import DEFAULT_ANSWER_RESERVE
from aihub_core.chat.ledger import upper_bound
from aihub_core.errors import InvalidRequestError
from aihub_core.identity import Caller
from aihub_core.limits.input_size import InputSize, measure_messages, measure_texts
from aihub_core.limits.rules import Demand
from aihub_core.limits.spend import BudgetAsk, caller_budgets
from aihub_core.pricing import cost_pico_usd

if TYPE_CHECKING:
    from aihub_core.chat.ledger import PreparedChat


def chat_demand(tokens: int, budgets: tuple[BudgetAsk, ...] = ()) -> Demand:
    """A chat (or embedding) call holds its token estimate and a concurrency slot until it ends,
    counts against the monthly quota, and holds its worst-case cost against its budgets."""
    return Demand(tokens=tokens, concurrent=True, counts_quota=True, budgets=budgets)


def worst_case_cost(prepared: PreparedChat) -> int:
    """The most the call can be charged (pico-USD): on the dearest model that may answer it, its
    prompt at the prompt price and its `max_tokens` (else the model's output limit, else the
    answer reserve its token estimate assumed) at the completion price. An embedding call: its
    inputs at the prompt price."""
    if prepared.embedding is not None:
        return cost_pico_usd(prepared.token_estimate, 0, prepared.model)
    costs = []
    for candidate in prepared.candidates:
        answer = upper_bound(candidate) or DEFAULT_ANSWER_RESERVE
        costs.append(cost_pico_usd(candidate.prompt_tokens, answer, candidate.model))
    return max(costs)


def budget_asks(prepared: PreparedChat) -> tuple[BudgetAsk, ...]:
    """What the call asks of the budgets it counts against: its key's, its user's and its plan's."""
    caller = prepared.caller
    if not caller_budgets(caller, caller.plan.monthly_budget):
        return ()
    return caller_budgets(caller, caller.plan.monthly_budget, worst_case_cost(prepared))


# Per kind of call: the parameter that makes it too large, and what to do about it.
_TOO_LARGE = {
    "turn": ("max_tokens", "lower max_tokens or shorten the conversation"),
    "completion": ("generation.max_tokens", "lower max_tokens or shorten the messages and tools"),
    "embedding": ("input", "send fewer or shorter inputs"),
}


def check_fits_plan(caller: Caller, tokens: int, kind: str = "turn") -> None:
    """A call larger than the plan's whole tokens/minute could never be admitted: say so now."""
    limit = caller.plan.tokens_per_minute
    if limit and tokens > limit:
        param, advice = _TOO_LARGE[kind]
        raise InvalidRequestError(
            f"This request may use about {tokens} tokens, more than the {limit} tokens per minute of the "
            f"{caller.plan.name} plan; {advice}",
            code="request_exceeds_token_limit",
            param=param,
        )


# Per kind of call: the parameter an input limit names.
_INPUT_PARAM = {"turn": "message", "completion": "messages", "embedding": "input"}


def input_of(prepared: PreparedChat) -> tuple[InputSize, str]:
    """A prepared call's input as its requested model would get it (a turn: the system prompt, the
    session's history as kept and the new message), and the parameter a refusal names."""
    if prepared.embedding is not None:
        return measure_texts(prepared.embedding.inputs), _INPUT_PARAM["embedding"]
    return measure_messages(prepared.candidates[0].upstream.messages), _INPUT_PARAM[prepared.kind]
