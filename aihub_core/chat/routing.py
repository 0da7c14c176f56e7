"""Find the first upstream that starts answering: retries, per-model breakers, fallback models.

A call has an ordered tuple of candidates (the requested model, then its configured fallbacks).
Each is tried with retries while failures are retryable; a candidate that keeps failing
retryably, or whose breaker is open, hands over to the next. Breakers are per (service, model):
one model a service routes to a broken provider leaves the service's other models alone. A 429
that names a wait is back-pressure, honoured by waiting (or by moving on when the wait is too
long), and says nothing about the model's health: it is no failure of the breaker. Once an
upstream has started (a whole completion, or the first piece of a stream), it is never retried:
the client may already have seen its text. The router records no usage; the engine records the
call's final outcome.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from aihub_core.catalog import Catalog, CatalogModel
from aihub_core.chat.conversation import Conversation
from aihub_core.errors import InvalidRequestError, UpstreamError
from aihub_core.messages import ProviderRequest
from aihub_core.providers.base import Completion, Provider, StreamEvent, TextDelta
from aihub_core.resilience import BreakerPolicy, CircuitBreaker, RetryPolicy, is_back_pressure, is_retryable

log = logging.getLogger("aihub.routing")

Sleep = Callable[[float], Awaitable[None]]
T = TypeVar("T")


@dataclass(frozen=True)
class Candidate:
    """One model that may answer a call, with the request built for its own context window."""

    model: CatalogModel
    provider: Provider
    upstream: ProviderRequest
    # The estimate of the upstream request's prompt, made while fitting it to the model's window
    # (`conversation.build_conversation`); an interrupted call is charged it.
    prompt_tokens: int


def circuit_open_error(model: CatalogModel, retry_in: float) -> UpstreamError:
    """The fast failure of a model whose breaker is open; retryable, so fallbacks proceed."""
    return UpstreamError(
        f"{model.id} on {model.service} is failing repeatedly; calls to it are paused for {retry_in:.0f}s",
        code="circuit_open",
        details={
            "service": model.service,
            "model": model.id,
            "retryable": "true",
            "retry_after": f"{retry_in:.3g}",
        },
    )


class Router:
    """Holds one circuit breaker per (service, model) and walks calls through their candidates."""

    def __init__(
        self,
        retry: RetryPolicy | None = None,
        breaker: BreakerPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self._breaker_policy = breaker or BreakerPolicy()
        self._clock = clock
        self._sleep = sleep
        self._jitter = jitter
        self._breakers: dict[tuple[str, str], CircuitBreaker] = {}

    def breaker(self, service: str, model: str) -> CircuitBreaker:
        """The breaker of `model` on `service`, created closed on first use."""
        found = self._breakers.get((service, model))
        if found is None:
            found = self._breakers[service, model] = CircuitBreaker(self._breaker_policy, self._clock)
        return found

    def breakers(self) -> list[tuple[str, str, CircuitBreaker]]:
        """(service, model, breaker) of every model this process has called, in first-call order.
        Breakers are per process: other workers and replicas keep their own."""
        return [(service, model, breaker) for (service, model), breaker in self._breakers.items()]

    def route(self, candidates: Sequence[Candidate]) -> Route:
        """A walk through `candidates` for one call."""
        if not candidates:
            raise ValueError("a call needs at least one candidate")
        return Route(self, tuple(candidates))

    async def first_start(self, route: Route, start: Callable[[Candidate], Awaitable[T]]) -> T:
        """The result of the first candidate whose `start` succeeds; else the last error is raised."""
        error: BaseException | None = None
        for index, candidate in enumerate(route.candidates):
            if index:
                log.warning(
                    "falling back from %s to %s after: %s",
                    route.candidate.model.qualified_id,
                    candidate.model.qualified_id,
                    error,
                )
            route.candidate = candidate
            breaker = self.breaker(candidate.model.service, candidate.model.id)
            retry = 0
            while True:
                if not breaker.allow():
                    if not retry:  # a retry stopped by the breaker keeps its own, truer error
                        error = circuit_open_error(candidate.model, breaker.retry_in())
                    break
                try:
                    result = await start(candidate)
                except BaseException as err:
                    error = err
                    wait = self._judge(breaker, err, retry)
                    if wait is None:
                        if is_retryable(err):
                            break  # retries used up, or a wait too long: the next candidate may answer
                        raise
                    log.warning("retrying %s in %.2fs after: %s", candidate.model.qualified_id, wait, err)
                    await self._sleep(wait)
                    retry += 1
                    continue
                breaker.record_success()
                return result
        assert error is not None  # a Route has at least one candidate
        raise error

    def _judge(self, breaker: CircuitBreaker, err: BaseException, retry: int) -> float | None:
        """Tell the breaker what `err` says about the service; the wait before a retry, if any."""
        if not isinstance(err, UpstreamError):
            breaker.abandon()  # cancelled, or a bug of ours: no verdict on the service
            return None
        if is_back_pressure(err):
            breaker.abandon()  # a 429 with a wait: the model is up, only busy
        elif is_retryable(err):
            breaker.record_failure()
        else:
            breaker.record_success()  # it answered coherently (a 4xx about the request): it is up
        return self.retry.delay(err, retry, self._jitter)


class Route:
    """One call's walk through its candidates; `candidate` is the one tried last (or answering)."""

    def __init__(self, router: Router, candidates: tuple[Candidate, ...]) -> None:
        self._router = router
        self.candidates = candidates
        self.candidate = candidates[0]

    async def complete(self) -> Completion:
        """The whole answer of the first candidate that gives one."""

        async def start(candidate: Candidate) -> Completion:
            return await candidate.provider.complete(candidate.upstream)

        return await self._router.first_start(self, start)

    async def stream(self) -> AsyncGenerator[StreamEvent, None]:
        """The events of the first candidate whose stream starts; nothing is retried after that."""
        first, events = await self._router.first_start(self, _start_stream)
        try:
            yield first
            async for event in events:
                yield event
        finally:
            await events.aclose()


async def _start_stream(candidate: Candidate) -> tuple[StreamEvent, AsyncGenerator[StreamEvent, None]]:
    """Open a stream and read up to its first piece of text or tool call (or its end); close it on failure."""
    events = candidate.provider.stream(candidate.upstream)
    try:
        async for event in events:
            if not isinstance(event, TextDelta) or event.text:
                return event, events
        raise UpstreamError("The upstream stream ended without a final event")
    except BaseException:
        await events.aclose()
        raise


def fallback_candidates(
    primary: CatalogModel,
    names: Sequence[str],
    catalog: Catalog,
    providers: Mapping[str, Provider],
    build: Callable[[CatalogModel], Conversation],
    images: bool,
) -> list[Candidate]:
    """The configured fallbacks of `primary` that can take this request, in order.

    `build` makes a model's own request (its context window decides how much history fits) and
    raises InvalidRequestError when the request cannot fit at all; such models are left out, as
    are models without images support for a request with images. A name the catalog does not
    know is a configuration slip: logged and skipped rather than failing every call.
    """
    chosen: list[Candidate] = []
    seen = {primary}
    for name in names:
        try:
            model = catalog.resolve(name, "")
        except InvalidRequestError:
            log.warning("fallback %r of %s is not in the catalog; skipped", name, primary.qualified_id)
            continue
        provider = providers.get(model.service)
        if model in seen or provider is None or model.category != "chat" or (images and not model.multimodal):
            continue
        seen.add(model)
        try:
            conversation = build(model)
        except InvalidRequestError:
            continue
        chosen.append(Candidate(model, provider, conversation.request, conversation.prompt_tokens))
    return chosen
