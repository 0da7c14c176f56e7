"""The router: retries before the first byte only, fallbacks in order, breakers per service."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence

import pytest

from aihub_core.catalog import CatalogModel, load_builtin_catalog
from aihub_core.chat.conversation import Conversation
from aihub_core.chat.routing import Candidate, Router, fallback_candidates
from aihub_core.errors import InvalidRequestError, UpstreamAuthError, UpstreamError
from aihub_core.messages import EmbeddingRequest, Message, ProviderRequest
from aihub_core.providers.base import (
    Completion,
    Embeddings,
    Provider,
    StreamEnd,
    StreamEvent,
    TextDelta,
    TokenUsage,
)
from aihub_core.resilience import BreakerPolicy, BreakerState, RetryPolicy

CATALOG = load_builtin_catalog()
GROK = CATALOG.resolve("openrouter:x-ai/grok-beta", "")
GPT35 = CATALOG.resolve("openrouter:openai/gpt-3.5-turbo", "")
FLASH = CATALOG.resolve("gemini:gemini-2.5-flash", "")

# A script step: an error to raise before the first byte, "ok" for an answer, "mid" for an answer
# that fails after its first piece.
Step = BaseException | str


class Scripted:
    """A provider that plays its script, one step per call, then answers."""

    def __init__(self, name: str, *steps: Step) -> None:
        self._name = name
        self._steps = list(steps)
        self.calls = 0

    @property
    def name(self) -> str:
        return self._name

    @property
    def simulated(self) -> bool:
        return True

    def _next(self) -> Step:
        self.calls += 1
        return self._steps.pop(0) if self._steps else "ok"

    def check(self, request: ProviderRequest) -> None:
        """Takes anything."""

    async def embed(self, request: EmbeddingRequest) -> Embeddings:
        step = self._next()
        if isinstance(step, BaseException):
            raise step
        return Embeddings(((1.0, 0.0),) * len(request.inputs), request.model, TokenUsage(3, 0))

    async def complete(self, request: ProviderRequest) -> Completion:
        step = self._next()
        if isinstance(step, BaseException):
            raise step
        return Completion(f"{self._name} answers", request.model, "stop", TokenUsage(3, 2))

    async def stream(self, request: ProviderRequest) -> AsyncGenerator[StreamEvent, None]:
        step = self._next()
        if isinstance(step, BaseException):
            raise step
        yield TextDelta("")  # keep-alive-like empty piece: not yet a start
        yield TextDelta(f"{self._name} ")
        if step == "mid":
            raise UpstreamError("failed mid-response")
        yield StreamEnd("stop", TokenUsage(3, 2), request.model)


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def candidate(model: CatalogModel, provider: Provider) -> Candidate:
    return Candidate(model, provider, ProviderRequest(model.id, (Message.of("user", "hi"),)), prompt_tokens=5)


def router(sleeps: Sleeps, clock: list[float] | None = None, threshold: int = 5) -> Router:
    now = clock if clock is not None else [0.0]
    return Router(
        RetryPolicy(max_retries=2, base_delay=0.25, max_delay=4.0),
        BreakerPolicy(failure_threshold=threshold, cooldown=30.0),
        clock=lambda: now[0],
        sleep=sleeps,
        jitter=lambda: 0.5,
    )


def overloaded() -> UpstreamError:
    return UpstreamError("503 overloaded", details={"upstream_status": "503"})


async def test_a_retryable_failure_is_retried_with_backoff() -> None:
    sleeps = Sleeps()
    primary = Scripted("openrouter", overloaded(), overloaded())
    route = router(sleeps).route([candidate(GROK, primary)])
    completion = await route.complete()
    assert completion.text == "openrouter answers" and primary.calls == 3
    assert sleeps.waits == [0.125, 0.25]  # jitter 0.5 of 0.25 s, then of 0.5 s


async def test_the_providers_wait_is_honoured() -> None:
    sleeps = Sleeps()
    limited = UpstreamError("429", code="upstream_rate_limited", details={"retry_after": "1.5"})
    route = router(sleeps).route([candidate(GROK, Scripted("openrouter", limited))])
    await route.complete()
    assert sleeps.waits == [1.5]


async def test_a_wait_longer_than_the_cap_goes_to_the_fallback_at_once() -> None:
    sleeps = Sleeps()
    limited = UpstreamError("429", code="upstream_rate_limited", details={"retry_after": "60"})
    primary, fallback = Scripted("openrouter", limited), Scripted("gemini")
    route = router(sleeps).route([candidate(GROK, primary), candidate(FLASH, fallback)])
    assert (await route.complete()).text == "gemini answers"
    assert (primary.calls, fallback.calls, sleeps.waits) == (1, 1, [])
    assert route.candidate.model == FLASH


async def test_a_non_retryable_failure_is_raised_without_retry_or_fallback() -> None:
    primary, fallback = Scripted("openrouter", UpstreamAuthError("bad key")), Scripted("gemini")
    route = router(Sleeps()).route([candidate(GROK, primary), candidate(FLASH, fallback)])
    with pytest.raises(UpstreamAuthError):
        await route.complete()
    assert (primary.calls, fallback.calls) == (1, 0)


async def test_when_every_candidate_fails_the_last_error_is_raised() -> None:
    last = UpstreamError("gemini 500")
    primary = Scripted("openrouter", *[overloaded()] * 3)
    fallback = Scripted("gemini", *[UpstreamError("gemini 500")] * 2, last)
    route = router(Sleeps()).route([candidate(GROK, primary), candidate(FLASH, fallback)])
    with pytest.raises(UpstreamError) as raised:
        await route.complete()
    assert raised.value is last and route.candidate.model == FLASH
    assert (primary.calls, fallback.calls) == (3, 3)


async def test_a_stream_is_retried_until_its_first_piece_and_never_after() -> None:
    sleeps = Sleeps()
    primary = Scripted("openrouter", overloaded(), "mid")
    fallback = Scripted("gemini")
    route = router(sleeps).route([candidate(GROK, primary), candidate(FLASH, fallback)])
    seen: list[str] = []
    with pytest.raises(UpstreamError, match="mid-response"):
        async for event in route.stream():
            assert isinstance(event, TextDelta)
            seen.append(event.text)
    assert seen == ["openrouter "]
    assert (primary.calls, fallback.calls, len(sleeps.waits)) == (2, 0, 1)


async def test_a_stream_falls_back_before_its_first_piece() -> None:
    primary, fallback = Scripted("openrouter", *[overloaded()] * 3), Scripted("gemini")
    route = router(Sleeps()).route([candidate(GROK, primary), candidate(FLASH, fallback)])
    events = [event async for event in route.stream()]
    assert events[0] == TextDelta("gemini ") and isinstance(events[-1], StreamEnd)
    assert route.candidate.model == FLASH


async def test_an_open_breaker_fails_fast_and_fallbacks_proceed() -> None:
    clock = [0.0]
    rt = router(Sleeps(), clock, threshold=3)
    primary = Scripted("openrouter", *[overloaded()] * 3)
    fallback = Scripted("gemini")
    pair = [candidate(GROK, primary), candidate(FLASH, fallback)]
    await rt.route(pair).complete()  # three failures open openrouter's breaker
    assert rt.breaker("openrouter", GROK.id).state is BreakerState.OPEN
    assert (await rt.route(pair).complete()).text == "gemini answers"
    assert primary.calls == 3  # not called while open
    with pytest.raises(UpstreamError) as raised:
        await rt.route(pair[:1]).complete()
    assert raised.value.code == "circuit_open" and raised.value.details["retryable"] == "true"
    clock[0] = 30.0  # cool-down over: one probe goes through and closes it
    assert (await rt.route(pair[:1]).complete()).text == "openrouter answers"
    assert rt.breaker("openrouter", GROK.id).state is BreakerState.CLOSED


async def test_a_cancelled_attempt_frees_the_probe_slot() -> None:
    clock = [0.0]
    rt = router(Sleeps(), clock, threshold=1)
    rt.breaker("openrouter", GROK.id).record_failure()
    clock[0] = 30.0
    route = rt.route([candidate(GROK, Scripted("openrouter", asyncio.CancelledError()))])
    with pytest.raises(asyncio.CancelledError):
        await route.complete()
    assert rt.breaker("openrouter", GROK.id).allow()  # the next call may probe


def test_fallbacks_that_cannot_take_the_request_are_left_out() -> None:
    providers: dict[str, Provider] = {"openrouter": Scripted("openrouter"), "gemini": Scripted("gemini")}
    names: Sequence[str] = (
        "openrouter:x-ai/grok-beta",  # the primary itself
        "no-such-model",
        "text-embedding-004",  # not a chat model
        "deepseek/deepseek-chat",  # no images
        "openai/gpt-3.5-turbo",  # too small a window for this request
        "gemini:gemini-2.5-flash",
        "gemini-2.5-flash",  # already chosen
    )

    def build(model: CatalogModel) -> Conversation:
        if model.context_length < 20000:
            raise InvalidRequestError("too long", code="context_length_exceeded")
        return Conversation(
            ProviderRequest(model.id, (Message.of("user", "hi"),)), prompt_tokens=5, answer_tokens=0
        )

    chosen = fallback_candidates(GROK, names, CATALOG, providers, build, images=True)
    assert [c.model for c in chosen] == [FLASH]
    assert chosen[0].provider is providers["gemini"] and chosen[0].upstream.model == FLASH.id
    without_images = fallback_candidates(GROK, names, CATALOG, providers, build, images=False)
    assert [c.model.id for c in without_images] == ["deepseek/deepseek-chat", FLASH.id]
    assert GPT35 not in [c.model for c in without_images]


async def test_a_429_with_a_wait_is_no_failure_of_the_breaker() -> None:
    sleeps = Sleeps()
    rt = router(sleeps, threshold=3)
    busy = UpstreamError(
        "429 slow down", code="upstream_rate_limited", details={"upstream_status": "429", "retry_after": "1"}
    )
    primary = Scripted("openrouter", *[busy] * 6)
    with pytest.raises(UpstreamError):
        await rt.route([candidate(GROK, primary)]).complete()
    with pytest.raises(UpstreamError):
        await rt.route([candidate(GROK, primary)]).complete()
    assert primary.calls == 6 and sleeps.waits == [1.0, 1.0, 1.0, 1.0]
    assert rt.breaker("openrouter", GROK.id).state is BreakerState.CLOSED
    # Without a wait it is a failure like any other.
    bare = UpstreamError("429", code="upstream_rate_limited", details={"upstream_status": "429"})
    with pytest.raises(UpstreamError):
        await rt.route([candidate(GROK, Scripted("openrouter", *[bare] * 3))]).complete()
    assert rt.breaker("openrouter", GROK.id).state is BreakerState.OPEN
