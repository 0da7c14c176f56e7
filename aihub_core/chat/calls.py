"""One chat call, from the Idempotency-Key claim to the release of its limits.

An API adapter (the gRPC servicers' Chat, StreamChat, CreateChatCompletion, StreamChatCompletion
and CreateEmbeddings) hands over a `ChatCall` and turns what comes back into its own messages.
Embeddings go the same way (`embed`), with the engine's `embeddings` in place of a chat turn.
Here, in order:

1. the Idempotency-Key, if any, is claimed; a stored answer comes back as a `Replay` instead,
   with the caller's current figures, uncounted;
2. the call is prepared (model, session, the conversation fitted to each candidate model, the
   token estimate), and its parameters read only now, so a bad key is refused before them;
3. it is admitted: an input beyond the plan's input limits (`limits.input_size`), or a call larger
   than the plan's whole minute, is a 400 at once; a refused one
   gets its ledger row and the 429; the admitted figures go to the adapter
   (`ChatCall.report_limits`) before any answer;
4. the provider is called through the router and the usage settled (`ChatEngine`);
5. the limits are released with the tokens used, and the answer stored under the key.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from aihub_core.chat.admission import budget_asks, chat_demand, check_fits_plan, input_of
from aihub_core.chat.completion_params import CompletionParams
from aihub_core.chat.embeddings import EmbeddingOutcome, EmbeddingParams
from aihub_core.chat.engine import ChatEngine, ChatOutcome, ContentPiece
from aihub_core.chat.idempotency import Idempotency
from aihub_core.chat.ledger import PreparedChat
from aihub_core.chat.params import ChatParams
from aihub_core.errors import RateLimitError
from aihub_core.identity import Caller
from aihub_core.limits.admitter import Admitter
from aihub_core.limits.input_size import InputLimits, check_input_size, effective_limits
from aihub_core.limits.rules import Grant, RateState
from aihub_core.limits.spend import check_fits_budgets
from aihub_core.providers.base import TokenUsage

P = TypeVar("P")
R = TypeVar("R")


class _Used(Protocol):
    @property
    def usage(self) -> TokenUsage: ...


U = TypeVar("U", bound=_Used)


@dataclass(frozen=True)
class IdempotencyKey(Generic[R]):
    """The Idempotency-Key a call came with, and how its adapter identifies requests and keeps answers."""

    key: str
    # The same key with another method or request is refused: both go into the stored hash.
    method: str
    request: bytes
    # The answer as stored for a replay (the adapter decodes it again: `Replay.answer`).
    encode: Callable[[R], bytes]


@dataclass(frozen=True)
class ChatCall(Generic[P, R]):
    """A call as an adapter hands it over: its parameters (P) and how to keep its outcome (R)."""

    caller: Caller
    request_id: str
    # Reads and validates the parameters; called once the Idempotency-Key is claimed.
    read_params: Callable[[], P]
    # Told the admitted figures (on a replay: the current ones) before any answer goes out.
    report_limits: Callable[[RateState], Awaitable[None]]
    idempotency: IdempotencyKey[R] | None = None


# A chat turn (the developer API's) or a message-array completion.
TurnCall = ChatCall[ChatParams | CompletionParams, ChatOutcome]
EmbeddingCall = ChatCall[EmbeddingParams, EmbeddingOutcome]


@dataclass(frozen=True)
class Replay:
    """The stored answer of an earlier call with the same Idempotency-Key, as its adapter encoded it."""

    answer: bytes


ChatEvent = ContentPiece | ChatOutcome | Replay


class ChatCalls:
    """Runs chat calls: claim, prepare, admit, answer, settle, release."""

    def __init__(
        self,
        engine: ChatEngine,
        admitter: Admitter,
        idempotency: Idempotency,
        input_limits: InputLimits | None = None,
        settled: Callable[[Caller], None] | None = None,
    ) -> None:
        """`settled(caller)` is told of each admitted call once its ledger row is final and its
        limits released, if the caller holds usage alerts (`alerts.checker.AlertChecker.notice`)."""
        self._engine = engine
        self._settled = settled
        self._admitter = admitter
        self._idempotency = idempotency
        # The operator's default, for plans that set no input limits of their own.
        self._input_limits = input_limits or InputLimits()

    async def complete(self, call: TurnCall) -> ChatOutcome | Replay:
        """The whole answer, recorded before this returns (or the stored one, replayed)."""
        return await self._once(call, self._complete)

    async def embed(self, call: EmbeddingCall) -> EmbeddingOutcome | Replay:
        """The vectors, recorded before this returns (or the stored ones, replayed)."""
        return await self._once(call, self._embed)

    async def _once(self, call: ChatCall[P, R], run: Callable[[ChatCall[P, R]], Awaitable[R]]) -> R | Replay:
        """Run the call, under its Idempotency-Key if it has one."""
        key = call.idempotency
        if key is None:
            return await run(call)
        replay = await self._claim(call, key)
        if replay is not None:
            return replay
        try:
            outcome = await run(call)
        except BaseException:
            await self._idempotency.abandon(call.caller, key.key)
            raise
        await self._idempotency.finish(call.caller, key.key, key.encode(outcome))
        return outcome

    async def stream(self, call: TurnCall) -> AsyncGenerator[ChatEvent, None]:
        """Pieces of the answer, then the outcome once its record is committed (or one `Replay`)."""
        key = call.idempotency
        if key is not None:
            replay = await self._claim(call, key)
            if replay is not None:
                yield replay
                return
        finished = False
        try:
            async with aclosing(self._stream(call)) as events:
                async for event in events:
                    if key is not None and isinstance(event, ChatOutcome):
                        # Stored before the outcome goes out: a client that sees the end can replay.
                        await self._idempotency.finish(call.caller, key.key, key.encode(event))
                        finished = True
                    yield event
        finally:
            if key is not None and not finished:
                await self._idempotency.abandon(call.caller, key.key)

    async def _claim(self, call: ChatCall[P, R], key: IdempotencyKey[R]) -> Replay | None:
        stored = await self._idempotency.begin(call.caller, key.key, key.method, key.request, call.request_id)
        if stored is None:
            return None
        await call.report_limits(await self._admitter.peek(call.caller))
        return Replay(stored)

    async def _complete(self, call: TurnCall) -> ChatOutcome:
        prepared = await self._engine.prepare(call.caller, call.read_params(), call.request_id)
        return await self._answer(call, prepared, self._engine.complete)

    async def _embed(self, call: EmbeddingCall) -> EmbeddingOutcome:
        prepared = self._engine.embeddings.prepare(call.caller, call.read_params(), call.request_id)
        return await self._answer(call, prepared, self._engine.embeddings.embed)

    async def _answer(
        self, call: ChatCall[P, U], prepared: PreparedChat, run: Callable[[PreparedChat], Awaitable[U]]
    ) -> U:
        """Admit the prepared call, tell the adapter, run it, release the limits with what it used."""
        grant = await self._admit(prepared)
        try:
            await call.report_limits(grant.state)
            return await run(prepared)
        finally:
            self._release(grant, prepared)

    async def _stream(self, call: TurnCall) -> AsyncGenerator[ContentPiece | ChatOutcome, None]:
        prepared = await self._engine.prepare(call.caller, call.read_params(), call.request_id)
        grant = await self._admit(prepared)
        events = self._engine.stream(prepared)
        try:
            await call.report_limits(grant.state)
            async for event in events:
                yield event
        finally:
            # Closed first: a stream cut short records what it delivered as it closes.
            try:
                await events.aclose()
            finally:
                self._release(grant, prepared)

    def _release(self, grant: Grant, prepared: PreparedChat) -> None:
        """Free the call's slot and settle its token estimate to what the ledger charged: the
        answer's usage, the estimate of a cut-off answer, nothing for a call that failed before
        any content or never reached the provider. Only a call whose final row could not be
        worked out (the ledger write itself interrupted first) keeps its estimate."""
        charge = prepared.charge
        self._admitter.release(grant, charge.settled(), charge.settled_cost())
        if prepared.caller.has_alerts and self._settled is not None:
            self._settled(prepared.caller)

    async def _admit(self, prepared: PreparedChat) -> Grant:
        """Admit the call with its token estimate; a refusal gets its ledger row, at no cost.
        An embedding call asks what a chat call does (a concurrency slot too: it holds an upstream
        connection for as long as a batch takes), and its rows count against the quota alike.
        An input beyond the plan's input limits is refused first: no row, nothing counted."""
        plan = prepared.caller.plan
        size, param = input_of(prepared)
        check_input_size(size, effective_limits(plan, self._input_limits), plan.name, param)
        check_fits_plan(prepared.caller, prepared.token_estimate, prepared.kind)
        budgets = budget_asks(prepared)
        check_fits_budgets(budgets)
        try:
            return await self._admitter.admit(prepared.caller, chat_demand(prepared.token_estimate, budgets))
        except RateLimitError:
            await self._engine.record_refused(prepared)
            raise
