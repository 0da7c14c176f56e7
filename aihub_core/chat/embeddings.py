"""Embeddings, run like a chat call: the model resolved in the catalog (an embedding model), one
admission decision with the inputs' token estimate (`calls.ChatCalls.embed`), the call through the
router (retries and the service's breaker; embedding models have no fallbacks), one ledger row
with the prompt tokens and their cost."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from aihub_core.catalog import Catalog, CatalogModel
from aihub_core.chat.ledger import CallLedger, PreparedChat, failure_status
from aihub_core.chat.models import resolve_model
from aihub_core.chat.routing import Candidate, Router
from aihub_core.errors import InvalidRequestError
from aihub_core.identity import Caller
from aihub_core.limits.tokens import estimate_text
from aihub_core.messages import EmbeddingRequest, ProviderRequest
from aihub_core.pricing import cost_pico_usd, usd
from aihub_core.providers.base import Embeddings, Provider, TokenUsage

MAX_INPUTS = 2048  # as OpenAI's /embeddings
MAX_INPUT_CHARS = 8_000_000


@dataclass(frozen=True)
class EmbeddingParams:
    """The fields of CreateEmbeddingsRequest, checked."""

    inputs: tuple[str, ...]
    model: str
    service: str = ""
    dimensions: int | None = None
    user: str = ""

    def __post_init__(self) -> None:
        if not self.model:
            raise InvalidRequestError("model is required", code="missing_parameter", param="model")
        if not self.inputs:
            raise InvalidRequestError(
                "input is required: at least one text", code="missing_parameter", param="input"
            )
        if len(self.inputs) > MAX_INPUTS:
            raise InvalidRequestError(f"input may hold at most {MAX_INPUTS} texts", param="input")
        for index, text in enumerate(self.inputs):
            if not text:
                raise InvalidRequestError(f"input[{index}] must not be empty", param=f"input[{index}]")
        if sum(len(text) for text in self.inputs) > MAX_INPUT_CHARS:
            raise InvalidRequestError(
                f"input may hold at most {MAX_INPUT_CHARS} characters", code="message_too_long", param="input"
            )
        if self.dimensions is not None and self.dimensions < 1:
            raise InvalidRequestError(
                f"dimensions must be at least 1, got {self.dimensions}", param="dimensions"
            )


@dataclass(frozen=True)
class EmbeddingOutcome:
    """The vectors with their usage, as recorded in the ledger."""

    vectors: tuple[tuple[float, ...], ...]
    model: CatalogModel
    usage: TokenUsage
    cost_pico_usd: int
    response_time_ms: int
    simulated: bool
    request_id: str

    @property
    def cost_usd(self) -> float:
        """The exact cost as the double nearest it (what the answer shows)."""
        return usd(self.cost_pico_usd)


class EmbeddingEngine:
    """Prepares and runs embedding calls against the configured providers, recording each one."""

    def __init__(
        self,
        ledger: CallLedger,
        catalog: Catalog,
        providers: Mapping[str, Provider],
        router: Router,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ledger = ledger
        self._catalog = catalog
        self._providers = providers
        self._router = router
        self._monotonic = monotonic

    def prepare(self, caller: Caller, params: EmbeddingParams, request_id: str) -> PreparedChat:
        """Validate against the catalog and estimate the tokens; nothing is charged yet."""
        started = self._monotonic()
        model, provider = resolve_model(
            self._catalog, self._providers, params.model, params.service, "embedding"
        )
        if params.dimensions is not None and model.dimensions and params.dimensions > model.dimensions:
            raise InvalidRequestError(
                f"dimensions may be at most {model.dimensions} for {model.id}, got {params.dimensions}",
                param="dimensions",
            )
        tokens = sum(estimate_text(text) for text in params.inputs)
        # The candidate's chat request is empty: the texts travel in `embedding`.
        candidate = Candidate(model, provider, ProviderRequest(model.id, ()), tokens)
        request = EmbeddingRequest(model.id, params.inputs, params.dimensions, params.user)
        return PreparedChat(caller, request_id, "", None, started, (candidate,), tokens, request)

    async def embed(self, chat: PreparedChat) -> EmbeddingOutcome:
        """Reserve the call in the ledger, get the vectors (retried as a chat call is), settle it."""
        request = chat.embedding
        if request is None:
            raise ValueError("not an embedding call")
        route = self._router.route(chat.candidates)

        async def start(candidate: Candidate) -> Embeddings:
            return await candidate.provider.embed(replace(request, model=candidate.model.id))

        try:
            self._ledger.reserve(chat)
            result = await self._router.first_start(route, start)
        except BaseException as err:
            # Nothing comes back before the whole answer: an upstream failure costs nothing, a
            # client that left is charged the inputs (the upstream embedded them for it).
            await self._ledger.failure(chat, route.candidate, "", failure_status(err))
            raise
        answered = route.candidate
        cost = cost_pico_usd(result.usage.prompt_tokens, 0, answered.model)
        record = self._ledger.record(chat, answered, result.usage, "ok", cost)
        await self._ledger.settle(record)
        return EmbeddingOutcome(
            vectors=result.vectors,
            model=answered.model,
            usage=result.usage,
            cost_pico_usd=cost,
            response_time_ms=record.response_time_ms,
            simulated=answered.provider.simulated,
            request_id=chat.request_id,
        )
