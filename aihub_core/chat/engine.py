"""A chat turn against the providers: resolve the model, build the conversation (and the token
estimate), call the provider, settle usage. `calls.ChatCalls` runs it between admission and release.

Which upstream answers (retries, circuit breakers, fallback models) is the router's business
(`aihub_core.chat.routing`); the engine asks it for the first upstream that starts and
records the call's one outcome against the model that answered.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from aihub_core.catalog import Catalog, CatalogModel
from aihub_core.chat.conversation import Conversation, build_conversation, image_to_data_uri
from aihub_core.chat.params import ChatParams
from aihub_core.chat.routing import Candidate, Router, fallback_candidates
from aihub_core.errors import InvalidRequestError, UpstreamError
from aihub_core.identity import Caller
from aihub_core.limits.tokens import estimate_text
from aihub_core.messages import Message
from aihub_core.pricing import cost_pico_usd, usd
from aihub_core.providers.base import Provider, StreamEnd, TokenUsage
from aihub_core.providers.images import decode_images
from aihub_core.store.base import Store, StoredMessage, UsageRecord, UsageStatus

INLINE_DECODE_LIMIT = 256 * 1024
# Only this many of a session's newest messages are read; older ones would rarely fit anyway.
MAX_HISTORY_MESSAGES = 400


@dataclass(frozen=True)
class PreparedChat:
    """Everything decided before the provider is called."""

    caller: Caller
    request_id: str
    session_id: str
    user_turn: StoredMessage
    started: float
    # The requested model first, then the configured fallbacks that can take this request.
    candidates: tuple[Candidate, ...]
    # Tokens the call may use on the requested model (its prompt and answer): it is admitted
    # with this estimate, made once, while its conversation was built.
    token_estimate: int

    @property
    def model(self) -> CatalogModel:
        """The requested model."""
        return self.candidates[0].model

    @property
    def provider(self) -> Provider:
        return self.candidates[0].provider


@dataclass(frozen=True)
class ChatOutcome:
    """A finished answer with its usage, as recorded in the ledger."""

    text: str
    model: CatalogModel
    session_id: str
    usage: TokenUsage
    cost_pico_usd: int
    finish_reason: str
    response_time_ms: int
    simulated: bool
    request_id: str

    @property
    def cost_usd(self) -> float:
        """The exact cost as the double nearest it (what the answer shows)."""
        return usd(self.cost_pico_usd)


@dataclass(frozen=True)
class ContentPiece:
    """A piece of a streamed answer, and the model writing it (a fallback's, maybe)."""

    text: str
    model: CatalogModel


def _failure_status(err: BaseException) -> UsageStatus:
    """A consumer that went away cancelled the call; anything else is an error."""
    return "cancelled" if isinstance(err, asyncio.CancelledError | GeneratorExit) else "error"


def new_session_id() -> str:
    """A fresh session id."""
    return f"session_{secrets.token_hex(12)}"


class ChatEngine:
    """Runs chat turns against the configured providers and records each one."""

    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        providers: Mapping[str, Provider],
        monotonic: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        fallbacks: Mapping[str, tuple[str, ...]] | None = None,
        router: Router | None = None,
    ) -> None:
        """`fallbacks` maps a model id (or `service:model-id`) to the models to try, in order,
        when it fails before answering; `router` holds the retry and circuit-breaker policies."""
        self._store = store
        self._catalog = catalog
        self._providers = providers
        self._monotonic = monotonic
        self._now = now
        self._fallbacks = dict(fallbacks or {})
        self._router = router or Router(clock=monotonic)

    async def prepare(self, caller: Caller, params: ChatParams, request_id: str) -> PreparedChat:
        """Validate against the catalog and load the session; nothing is charged yet."""
        started = self._monotonic()
        model = self._catalog.resolve(params.model, params.service)
        if model.category != "chat":
            raise InvalidRequestError(
                f"{model.id} is a {model.category} model and cannot chat",
                code="model_not_chat",
                param="model",
            )
        provider = self._providers.get(model.service)
        if provider is None:
            raise InvalidRequestError(f"Service {model.service!r} is not configured", param="service")
        # Decoding 20 MB of base64 takes tens of milliseconds: off the event loop when large.
        large = sum(len(i) for i in params.images) > INLINE_DECODE_LIMIT
        images = (
            await asyncio.to_thread(decode_images, params.images) if large else decode_images(params.images)
        )
        if images and not model.multimodal:
            raise InvalidRequestError(
                f"{model.id} does not accept images; choose a model with the multimodal capability",
                code="images_not_supported",
                param="images",
            )
        session_id = params.session_id or new_session_id()
        # A session minted just now has no history: no read on that path.
        history = (
            (await self._store.session_messages(caller.user_id, session_id, MAX_HISTORY_MESSAGES)) or []
            if params.session_id
            else []
        )
        user_turn = Message("user", params.message, images)

        def build(target: CatalogModel) -> Conversation:
            return build_conversation(
                target, history, user_turn, params.system_prompt, params.max_tokens, params.temperature
            )

        # The requested model must take the request; a fallback that cannot is merely left out.
        conversation = build(model)
        primary = Candidate(model, provider, conversation.request, conversation.prompt_tokens)
        names = self._fallbacks.get(model.qualified_id, self._fallbacks.get(model.id, ()))
        fallbacks = fallback_candidates(model, names, self._catalog, self._providers, build, bool(images))
        stored_turn = StoredMessage(
            role="user",
            content=params.message,
            created_at=self._now(),
            images=tuple(image_to_data_uri(i) for i in images),
        )
        candidates = (primary, *fallbacks)
        return PreparedChat(
            caller, request_id, session_id, stored_turn, started, candidates, conversation.tokens
        )

    async def complete(self, chat: PreparedChat) -> ChatOutcome:
        """Reserve the call in the ledger, get the whole answer from the first upstream that gives
        one, and settle it; the record is committed before this returns."""
        route = self._router.route(chat.candidates)
        try:
            self._reserve(chat)
            completion = await route.complete()
        except BaseException as err:
            await self._record_failure(chat, route.candidate, "", _failure_status(err))
            raise
        return await self._settle(
            chat, route.candidate, completion.text, completion.usage, completion.finish_reason
        )

    async def stream(self, chat: PreparedChat) -> AsyncGenerator[ContentPiece | ChatOutcome, None]:
        """Reserve the call in the ledger, yield pieces of the answer, then the outcome once its
        record is committed (so a client that saw `done` has a durable record).

        Exactly one usage record per call, settled from the reservation: if the upstream fails
        (in any way), or the consumer goes away (cancellation or aclose), the upstream is closed
        first and what was generated is recorded with estimated token counts. Attempts the
        router gave up on before the first piece leave no record of their own.
        """
        pieces: list[str] = []
        route = self._router.route(chat.candidates)
        upstream = route.stream()
        end: StreamEnd | None = None
        try:
            self._reserve(chat)
            async for event in upstream:
                if isinstance(event, StreamEnd):
                    end = event
                    break
                if event.text:
                    pieces.append(event.text)
                    yield ContentPiece(event.text, route.candidate.model)
            if end is None:
                raise UpstreamError("The upstream stream ended without a final event")
        except BaseException as err:
            await upstream.aclose()
            await self._record_failure(chat, route.candidate, "".join(pieces), _failure_status(err))
            raise
        await upstream.aclose()
        # The store finishes a write even if this task is cancelled meanwhile, so a consumer that
        # leaves during settlement still gets exactly this one record.
        yield await self._settle(chat, route.candidate, "".join(pieces), end.usage, end.finish_reason)

    def _record(
        self, chat: PreparedChat, answered: Candidate, usage: TokenUsage, status: UsageStatus, cost: int
    ) -> UsageRecord:
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
            usage_source=usage.source,
            created_at=self._now(),
            session_id=chat.session_id,
            response_time_ms=self._elapsed_ms(chat),
        )

    def _uncharged(self, chat: PreparedChat, candidate: Candidate, status: UsageStatus) -> UsageRecord:
        """A record with nothing to count: no tokens, no cost, usage_source `none`."""
        nothing = TokenUsage(prompt_tokens=0, completion_tokens=0)
        return replace(self._record(chat, candidate, nothing, status, 0), usage_source="none")

    async def record_refused(self, chat: PreparedChat) -> None:
        """Admission refused the call: its one ledger row, at no cost."""
        await self._store.record_usage(self._uncharged(chat, chat.candidates[0], "refused"))

    def _reserve(self, chat: PreparedChat) -> None:
        """Write the call's pending ledger row: the caller was admitted, the provider not yet called."""
        # Not awaited: the row is written before the settlement (the store keeps the order), and
        # the provider call need not wait for the disk (docs/accounting.md).
        self._store.queue_reservation(self._uncharged(chat, chat.candidates[0], "pending"))

    async def _settle(
        self, chat: PreparedChat, answered: Candidate, text: str, usage: TokenUsage, finish: str
    ) -> ChatOutcome:
        """Record the answer at the prices of the model that gave it (a fallback's, maybe)."""
        cost = cost_pico_usd(usage.prompt_tokens, usage.completion_tokens, answered.model)
        answer = StoredMessage(role="assistant", content=text, created_at=self._now())
        record = self._record(chat, answered, usage, "ok", cost)
        await self._store.append_turn(chat.caller.user_id, chat.session_id, chat.user_turn, answer, record)
        return ChatOutcome(
            text=text,
            model=answered.model,
            session_id=chat.session_id,
            usage=usage,
            cost_pico_usd=cost,
            finish_reason=finish,
            response_time_ms=record.response_time_ms,
            simulated=answered.provider.simulated,
            request_id=chat.request_id,
        )

    async def _record_failure(
        self, chat: PreparedChat, tried: Candidate, partial: str, status: UsageStatus
    ) -> None:
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
            completion_tokens=estimate_text(partial) if partial else 0,
            source="estimated",
        )
        cost = cost_pico_usd(usage.prompt_tokens, usage.completion_tokens, tried.model)
        await self._store.record_usage(self._record(chat, tried, usage, status, cost))

    def _elapsed_ms(self, chat: PreparedChat) -> int:
        return round((self._monotonic() - chat.started) * 1000)
