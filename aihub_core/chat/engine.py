"""A chat turn against the providers: resolve the model, build the conversation (and the token
estimate), call the provider, settle usage. `calls.ChatCalls` runs it between admission and release.

Two kinds of call share it: the developer API's one message in a session (`ChatParams`: history
from the store, the turn stored with its answer) and the message-array form (`CompletionParams`,
`completions`: the caller's whole conversation, with tools; no session, only the ledger row).

Which upstream answers (retries, circuit breakers, fallback models) is the router's business
(`aihub_core.chat.routing`); the engine asks it for the first upstream that starts and
records the call's one outcome against the model that answered.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from aihub_core.catalog import Catalog, CatalogModel
from aihub_core.chat.completion_params import CompletionParams
from aihub_core.chat.completions import completion_conversation, encode_messages, has_images
from aihub_core.chat.conversation import Conversation, build_conversation, image_to_data_uri
from aihub_core.chat.embeddings import EmbeddingEngine
from aihub_core.chat.ledger import CallLedger, PreparedChat, failure_status
from aihub_core.chat.models import resolve_model
from aihub_core.chat.params import ChatParams
from aihub_core.chat.routing import Candidate, Router, fallback_candidates
from aihub_core.errors import InvalidRequestError, UpstreamError
from aihub_core.identity import Caller
from aihub_core.messages import Message, ToolCall
from aihub_core.pricing import cost_pico_usd, usd
from aihub_core.providers.base import Provider, StreamEnd, TextDelta, TokenUsage, ToolCallDelta
from aihub_core.providers.images import OFF_LOOP_BYTES, decode_images
from aihub_core.store.base import Store, StoredMessage

# Only this many of a session's newest messages are read; older ones would rarely fit anyway.
MAX_HISTORY_MESSAGES = 400


@dataclass(frozen=True)
class ChatOutcome:
    """A finished answer (text and/or tool calls) with its usage, as recorded in the ledger."""

    text: str
    model: CatalogModel
    session_id: str
    usage: TokenUsage
    cost_pico_usd: int
    finish_reason: str
    response_time_ms: int
    simulated: bool
    request_id: str
    tool_calls: tuple[ToolCall, ...] = ()

    @property
    def cost_usd(self) -> float:
        """The exact cost as the double nearest it (what the answer shows)."""
        return usd(self.cost_pico_usd)


@dataclass(frozen=True)
class ContentPiece:
    """A piece of a streamed answer (text, or a piece of a tool call), and the model writing it
    (a fallback's, maybe)."""

    text: str
    model: CatalogModel
    tool_call: ToolCallDelta | None = None


class _CallPieces:
    """The tool-call pieces a stream has passed on (ids and names come first, once per call)."""

    def __init__(self) -> None:
        self._calls: list[tuple[str, str, list[str]]] = []

    def add(self, piece: ToolCallDelta) -> None:
        if piece.index == len(self._calls):
            self._calls.append((piece.id, piece.name, []))
        self._calls[piece.index][2].append(piece.arguments)

    def text(self) -> str:
        """Everything the model wrote for its calls, to estimate a partial answer by."""
        return "".join(name + "".join(arguments) for _, name, arguments in self._calls)

    def whole(self) -> tuple[ToolCall, ...]:
        return tuple(ToolCall(i, n, "".join(a)) for i, n, a in self._calls)


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
        self._ledger = CallLedger(store, monotonic, now)
        # Embeddings share the catalog, the providers, the ledger and the router (its breakers).
        self.embeddings = EmbeddingEngine(self._ledger, catalog, providers, self._router, monotonic)

    async def record_refused(self, chat: PreparedChat) -> None:
        """Admission refused the call: its one ledger row, at no cost."""
        await self._ledger.refused(chat)

    async def prepare(
        self, caller: Caller, params: ChatParams | CompletionParams, request_id: str
    ) -> PreparedChat:
        """Validate against the catalog and load the session, if any; nothing is charged yet."""
        started = self._monotonic()
        model, provider = resolve_model(self._catalog, self._providers, params.model, params.service, "chat")
        if isinstance(params, CompletionParams):
            return await self._prepare_completion(caller, params, request_id, started, model, provider)
        # Decoding 20 MB of base64 takes tens of milliseconds: off the event loop when large.
        large = sum(len(i) for i in params.images) > OFF_LOOP_BYTES
        images = (
            await asyncio.to_thread(decode_images, params.images) if large else decode_images(params.images)
        )
        self._check_images(model, bool(images), "images")
        session_id = params.session_id or new_session_id()
        # A session minted just now has no history: no read on that path.
        history = (
            (await self._store.session_messages(caller.user_id, session_id, MAX_HISTORY_MESSAGES)) or []
            if params.session_id
            else []
        )
        user_turn = Message.of("user", params.message, images)

        def build(target: CatalogModel) -> Conversation:
            return build_conversation(
                target, history, user_turn, params.system_prompt, params.max_tokens, params.temperature
            )

        stored_turn = StoredMessage(
            role="user",
            content=params.message,
            created_at=self._now(),
            images=tuple(image_to_data_uri(i) for i in images),
        )
        candidates, estimate = self._candidates(model, provider, build, bool(images))
        return PreparedChat(caller, request_id, session_id, stored_turn, started, candidates, estimate)

    async def _prepare_completion(
        self,
        caller: Caller,
        params: CompletionParams,
        request_id: str,
        started: float,
        model: CatalogModel,
        provider: Provider,
    ) -> PreparedChat:
        messages = await encode_messages(params.messages)
        images = has_images(messages)
        self._check_images(model, images, "messages")

        def build(target: CatalogModel) -> Conversation:
            conversation = completion_conversation(target, params, messages)
            # What the target's upstream cannot take (an image URL Gemini cannot fetch) is a 400
            # for the requested model, and leaves a fallback out.
            self._providers[target.service].check(conversation.request)
            return conversation

        candidates, estimate = self._candidates(model, provider, build, images)
        return PreparedChat(caller, request_id, "", None, started, candidates, estimate)

    @staticmethod
    def _check_images(model: CatalogModel, images: bool, param: str) -> None:
        if images and not model.multimodal:
            raise InvalidRequestError(
                f"{model.id} does not accept images; choose a model with the multimodal capability",
                code="images_not_supported",
                param=param,
            )

    def _candidates(
        self,
        model: CatalogModel,
        provider: Provider,
        build: Callable[[CatalogModel], Conversation],
        images: bool,
    ) -> tuple[tuple[Candidate, ...], int]:
        """The requested model (which must take the request) and the fallbacks that can; and the
        call's token estimate on the requested model."""
        conversation = build(model)
        primary = Candidate(model, provider, conversation.request, conversation.prompt_tokens)
        names = self._fallbacks.get(model.qualified_id, self._fallbacks.get(model.id, ()))
        fallbacks = fallback_candidates(model, names, self._catalog, self._providers, build, images)
        return (primary, *fallbacks), conversation.tokens

    async def complete(self, chat: PreparedChat) -> ChatOutcome:
        """Reserve the call in the ledger, get the whole answer from the first upstream that gives
        one, and settle it; the record is committed before this returns."""
        route = self._router.route(chat.candidates)
        try:
            self._ledger.reserve(chat)
            completion = await route.complete()
        except BaseException as err:
            await self._ledger.failure(chat, route.candidate, "", failure_status(err))
            raise
        return await self._settle(
            chat,
            route.candidate,
            completion.text,
            completion.usage,
            completion.finish_reason,
            completion.tool_calls,
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
        calls = _CallPieces()
        route = self._router.route(chat.candidates)
        upstream = route.stream()
        end: StreamEnd | None = None
        try:
            self._ledger.reserve(chat)
            async for event in upstream:
                if isinstance(event, StreamEnd):
                    end = event
                    break
                if isinstance(event, ToolCallDelta):
                    calls.add(event)
                    yield ContentPiece("", route.candidate.model, event)
                elif isinstance(event, TextDelta) and event.text:
                    pieces.append(event.text)
                    yield ContentPiece(event.text, route.candidate.model)
            if end is None:
                raise UpstreamError("The upstream stream ended without a final event")
        except BaseException as err:
            await upstream.aclose()
            partial = "".join(pieces) + calls.text()
            await self._ledger.failure(chat, route.candidate, partial, failure_status(err))
            raise
        await upstream.aclose()
        # The store finishes a write even if this task is cancelled meanwhile, so a consumer that
        # leaves during settlement still gets exactly this one record.
        yield await self._settle(
            chat, route.candidate, "".join(pieces), end.usage, end.finish_reason, calls.whole()
        )

    async def _settle(
        self,
        chat: PreparedChat,
        answered: Candidate,
        text: str,
        usage: TokenUsage,
        finish: str,
        tool_calls: tuple[ToolCall, ...] = (),
    ) -> ChatOutcome:
        """Record the answer at the prices of the model that gave it (a fallback's, maybe), with
        the session's new turn if there is a session."""
        cost = cost_pico_usd(usage.prompt_tokens, usage.completion_tokens, answered.model)
        record = self._ledger.record(chat, answered, usage, "ok", cost)
        if chat.user_turn is None:
            await self._ledger.settle(record)
        else:
            answer = StoredMessage(role="assistant", content=text, created_at=self._now())
            await self._store.append_turn(
                chat.caller.user_id, chat.session_id, chat.user_turn, answer, record
            )
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
            tool_calls=tool_calls,
        )
