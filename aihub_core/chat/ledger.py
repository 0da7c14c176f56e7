"""A call's one ledger row: reserved when it is admitted, settled once (docs/accounting.md).

Chat turns, message-array completions and embeddings are all prepared into a `PreparedChat` and
recorded here alike: a refusal at no cost, a reservation, then the answer's usage or the failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from aihub_core.catalog import CatalogModel
from aihub_core.chat.routing import Candidate
from aihub_core.identity import Caller
from aihub_core.limits.tokens import estimate_delivered
from aihub_core.messages import EmbeddingRequest
from aihub_core.pricing import cost_pico_usd
from aihub_core.providers.base import Provider, TokenUsage
from aihub_core.store.base import Store, StoredMessage, UsageRecord, UsageStatus


@dataclass
class Charge:
    """The tokens the ledger charged a call, once its row is final (None until then): what its
    admission's token estimate settles to when the call ends, however it ends."""

    tokens: int | None = None
    # The cost (pico-USD) of that row: what the call's budgets settle to.
    cost: int | None = None
    # Whether the call reached the ledger (a pending row) at all.
    reserved: bool = False

    def settled(self) -> int | None:
        """What the admission settles to: the tokens charged; nothing for a call that never reached
        the ledger; None (keep the estimate) when the final row could not be worked out."""
        if self.tokens is None and not self.reserved:
            return 0
        return self.tokens

    def settled_cost(self) -> int | None:
        """What the budgets' reservation settles to, as `settled` for the tokens."""
        if self.cost is None and not self.reserved:
            return 0
        return self.cost


@dataclass(frozen=True)
class PreparedChat:
    """Everything decided before the provider is called."""

    caller: Caller
    request_id: str
    # The session and the user turn to store with the answer; empty and None without a session.
    session_id: str
    user_turn: StoredMessage | None
    started: float
    # The requested model first, then the configured fallbacks that can take this request (an
    # embedding call: its model alone, whose `upstream` chat request is empty).
    candidates: tuple[Candidate, ...]
    # Tokens the call may use on the requested model (its prompt and answer): it is admitted
    # with this estimate, made once, while its conversation was built.
    token_estimate: int
    # The texts of an embedding call.
    embedding: EmbeddingRequest | None = None
    # Set by the ledger when it writes the call's final row (before the write, so a call
    # cancelled during it still knows).
    charge: Charge = field(default_factory=Charge, compare=False)

    @property
    def kind(self) -> str:
        """`turn` (the developer API's, in a session), `completion` (a message array) or `embedding`."""
        if self.embedding is not None:
            return "embedding"
        return "turn" if self.user_turn is not None else "completion"

    @property
    def model(self) -> CatalogModel:
        """The requested model."""
        return self.candidates[0].model

    @property
    def provider(self) -> Provider:
        return self.candidates[0].provider


def upper_bound(candidate: Candidate) -> int | None:
    """The most completion tokens the call could have been charged: its `max_tokens`, else the
    model's output limit (None when the catalog knows none)."""
    limits = [n for n in (candidate.upstream.max_tokens, candidate.model.max_output_tokens) if n]
    return min(limits) if limits else None


def failure_status(err: BaseException) -> UsageStatus:
    """A consumer that went away cancelled the call; anything else is an error."""
    return "cancelled" if isinstance(err, asyncio.CancelledError | GeneratorExit) else "error"


class CallLedger:
    """Writes the ledger rows of prepared calls."""

    def __init__(self, store: Store, monotonic: Callable[[], float], now: Callable[[], datetime]) -> None:
        self._store = store
        self._monotonic = monotonic
        self._now = now

    def record(
        self,
        chat: PreparedChat,
        answered: Candidate,
        usage: TokenUsage,
        status: UsageStatus,
        cost: int,
        source: Literal["provider", "estimated", "none"] | None = None,
    ) -> UsageRecord:
        """The call's row as charged to the model that answered (or was tried last); `source`
        overrides the usage's own."""
        if status != "pending":
            chat.charge.tokens = usage.prompt_tokens + usage.completion_tokens
            chat.charge.cost = cost
        return UsageRecord(
            request_id=chat.request_id,
            user_id=chat.caller.user_id,
            key_id=chat.caller.key_id,
            service=answered.model.service,
            model=answered.model.id,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost_pico_usd=cost,
            status=status,
            usage_source=usage.source if source is None else source,
            created_at=self._now(),
            session_id=chat.session_id or None,
            response_time_ms=round((self._monotonic() - chat.started) * 1000),
        )

    def _uncharged(self, chat: PreparedChat, candidate: Candidate, status: UsageStatus) -> UsageRecord:
        """A record with nothing to count: no tokens, no cost, usage_source `none`."""
        nothing = TokenUsage(prompt_tokens=0, completion_tokens=0)
        return self.record(chat, candidate, nothing, status, 0, "none")

    async def refused(self, chat: PreparedChat) -> None:
        """Admission refused the call: its one ledger row, at no cost."""
        await self._store.record_usage(self._uncharged(chat, chat.candidates[0], "refused"))

    def reserve(self, chat: PreparedChat) -> None:
        """Write the call's pending ledger row: the caller was admitted, the provider not yet called."""
        chat.charge.reserved = True
        # Not awaited: the row is written before the settlement (the store keeps the order), and
        # the provider call need not wait for the disk (docs/accounting.md).
        self._store.queue_reservation(self._uncharged(chat, chat.candidates[0], "pending"))

    async def settle(self, record: UsageRecord) -> None:
        """Settle the reservation with the answer's record (a session's turn: `Store.append_turn`)."""
        await self._store.record_usage(record)

    async def failure(self, chat: PreparedChat, tried: Candidate, partial: str, status: UsageStatus) -> None:
        """Record an interrupted call against the model tried last (billing: docs/accounting.md).

        An upstream failure before any content costs nothing. Once content flowed, or when the
        client went away (the model kept generating for it), the prompt and the partial answer
        are charged as estimated tokens.
        """
        if status == "error" and not partial:
            await self._store.record_usage(self._uncharged(chat, tried, status))
            return
        usage = TokenUsage(
            prompt_tokens=tried.prompt_tokens,
            completion_tokens=estimate_delivered(partial, upper_bound(tried)),
            source="estimated",
        )
        cost = cost_pico_usd(usage.prompt_tokens, usage.completion_tokens, tried.model)
        await self._store.record_usage(self.record(chat, tried, usage, status, cost))
