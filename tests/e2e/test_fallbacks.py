"""Retries, fallback models and circuit breakers through REST and gRPC, against the simulators.

The core's fallbacks come from its AIHUB_CONFIG file, its breaker policy from its settings, and
its clock (`tests.fake_clock.FakeClock`) skips the backoff and lets a test move past a cool-down.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest

from aihub.v1 import chat_service_pb2 as chat_pb
from aihub.v1 import chat_service_pb2_grpc as chat_grpc
from aihub_core.app import Core
from aihub_core.catalog import load_builtin_catalog
from aihub_core.messages import EmbeddingRequest, ProviderRequest
from aihub_core.pricing import cost_pico_usd, usd
from aihub_core.providers.base import Completion, Embeddings, Provider, StreamEvent
from aihub_core.resilience import BreakerPolicy, BreakerState, RetryPolicy
from aihub_core.simulators import Simulator
from aihub_core.store.sqlite.url import sqlite_path
from tests.conftest import Account
from tests.conftest import isolated_settings as settings_in
from tests.e2e.sse import sse_events
from tests.e2e.test_grpc import bearer, new_key
from tests.fake_clock import FakeClock

CHAT = "/v1/developer/chat"
FLASH = load_builtin_catalog().resolve("gemini:gemini-2.5-flash", "")
FALLBACKS = '[fallbacks]\n"x-ai/grok-beta" = ["gemini:gemini-2.5-flash"]\n'


class Halfway(random.Random):
    """Jitter that always draws the middle: each backoff is half its ceiling."""

    def random(self) -> float:
        return 0.5


@pytest.fixture
async def core(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Core]:
    config = tmp_path / "aihub.toml"
    config.write_text(FALLBACKS)
    settings = settings_in(
        tmp_path,
        config_path=config,
        retry=RetryPolicy(max_retries=2),
        breaker=BreakerPolicy(failure_threshold=5, window=60.0, cooldown=30.0),
    )
    running = await Core.start(settings, environ={}, clock=clock, jitter=Halfway())
    try:
        yield running
    finally:
        await running.stop(grace=0)


class Flaky:
    """The real provider, with its simulator put on `scenario` for the first `failures` calls (of
    the model `only`, if given: as when a service routes one model to a broken provider)."""

    def __init__(
        self, real: Provider, sim: Simulator, scenario: str, failures: int, only: str | None = None
    ) -> None:
        self._real, self._sim, self.scenario, self._only = real, sim, scenario, only
        self.failures = failures
        self.calls = 0
        self.model_calls: dict[str, int] = {}

    @property
    def name(self) -> str:
        return self._real.name

    @property
    def simulated(self) -> bool:
        return self._real.simulated

    def _next(self, model: str) -> None:
        self.calls += 1
        self.model_calls[model] = self.model_calls.get(model, 0) + 1
        failing = self.calls <= self.failures and self._only in (None, model)
        self._sim.scenario = self.scenario if failing else None

    def check(self, request: ProviderRequest) -> None:
        self._real.check(request)

    async def complete(self, request: ProviderRequest) -> Completion:
        self._next(request.model)
        return await self._real.complete(request)

    async def embed(self, request: EmbeddingRequest) -> Embeddings:
        self._next(request.model)
        return await self._real.embed(request)

    async def stream(self, request: ProviderRequest) -> AsyncGenerator[StreamEvent, None]:
        self._next(request.model)
        async for event in self._real.stream(request):
            yield event


def flaky(core: Core, service: str, scenario: str, failures: int = 1_000, only: str | None = None) -> Flaky:
    providers, simulators = core.upstreams.providers, core.upstreams.simulators
    wrapped = Flaky(providers[service], simulators[service], scenario, failures, only)
    core.upstreams.providers[service] = wrapped
    return wrapped


def ledger(core: Core) -> list[tuple[str, str, str, float]]:
    """Every usage row: (service, model, status, cost in USD)."""
    with sqlite3.connect(sqlite_path(core.settings.database_url)) as db:
        rows = db.execute(
            "SELECT service, model, status, cost_pico_usd FROM usage_records ORDER BY rowid"
        ).fetchall()
    return [(str(s), str(m), str(st), usd(c)) for s, m, st, c in rows]


async def test_a_failure_before_the_first_byte_is_retried(
    core: Core, http: httpx.AsyncClient, account: Account, clock: FakeClock
) -> None:
    primary = flaky(core, "openrouter", "error-503", failures=1)
    answer = await http.post(CHAT, json={"message": "hi"}, headers=account.key_auth)
    assert answer.status_code == 200, answer.text
    assert answer.json()["model"] == "openrouter:x-ai/grok-beta" and primary.calls == 2
    assert clock.slept == [0.125]  # one backoff: the jitter's half of the 0.25 s base
    [(service, model, status, cost)] = ledger(core)
    assert (service, model, status) == ("openrouter", "x-ai/grok-beta", "ok")
    assert cost == answer.json()["usage"]["estimated_cost_usd"] > 0


async def test_a_stream_is_retried_over_grpc(core: Core, channel: grpc.aio.Channel) -> None:
    _, key = await new_key(channel)
    primary = flaky(core, "openrouter", "error-500", failures=2)
    stream = chat_grpc.ChatServiceStub(channel).StreamChat(
        chat_pb.StreamChatRequest(message="hi"), metadata=bearer(key)
    )
    kinds = [event.WhichOneof("event") async for event in stream]
    assert kinds[0] == "content" and kinds[-3:] == ["session", "usage", "done"]
    assert primary.calls == 3 and [row[2] for row in ledger(core)] == ["ok"]


async def test_a_model_that_keeps_failing_falls_back(
    core: Core, http: httpx.AsyncClient, account: Account
) -> None:
    primary, fallback = flaky(core, "openrouter", "error-503"), flaky(core, "gemini", "error-503", 0)
    answer = await http.post(CHAT, json={"message": "hi"}, headers=account.key_auth)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["model"] == "gemini:gemini-2.5-flash" and data["metadata"]["service_used"] == "gemini"
    usage = data["usage"]
    cost = cost_pico_usd(usage["prompt_tokens"], usage["completion_tokens"], FLASH)
    assert usage["estimated_cost_usd"] == usd(cost)
    assert (primary.calls, fallback.calls) == (3, 1)
    assert ledger(core) == [("gemini", "gemini-2.5-flash", "ok", usage["estimated_cost_usd"])]


async def test_a_stream_falls_back_over_grpc(core: Core, channel: grpc.aio.Channel) -> None:
    _, key = await new_key(channel)
    flaky(core, "openrouter", "error-503")
    events = [
        event
        async for event in chat_grpc.ChatServiceStub(channel).StreamChat(
            chat_pb.StreamChatRequest(message="hi"), metadata=bearer(key)
        )
    ]
    content = [e.content for e in events if e.WhichOneof("event") == "content"]
    assert content and all(c.model == "gemini-2.5-flash" for c in content)
    [usage] = [e.usage for e in events if e.WhichOneof("event") == "usage"]
    assert usage.metadata.service_used == "gemini"
    assert [(row[0], row[2]) for row in ledger(core)] == [("gemini", "ok")]


async def test_nothing_is_retried_once_content_has_started(
    core: Core, http: httpx.AsyncClient, account: Account
) -> None:
    primary, fallback = flaky(core, "openrouter", "midstream-error"), flaky(core, "gemini", "error-503", 0)
    async with http.stream("POST", f"{CHAT}/stream", json={"message": "hi"}, headers=account.key_auth) as r:
        assert r.status_code == 200
        events = await sse_events(r)
    assert events[0]["type"] == "content" and events[-1]["type"] == "error"
    assert (primary.calls, fallback.calls) == (1, 0)
    assert [(row[0], row[2]) for row in ledger(core)] == [("openrouter", "error")]


async def test_the_breaker_opens_fails_fast_and_probes_after_the_cooldown(
    core: Core, http: httpx.AsyncClient, account: Account, clock: FakeClock
) -> None:
    primary = flaky(core, "openrouter", "error-503")
    for _ in range(2):  # 3 + 2 failed attempts open the breaker; the second call's third is not sent
        answer = await http.post(CHAT, json={"message": "hi"}, headers=account.key_auth)
        assert answer.json()["model"] == "gemini:gemini-2.5-flash"
    assert (
        primary.calls == 5 and core.router.breaker("openrouter", "x-ai/grok-beta").state is BreakerState.OPEN
    )
    answer = await http.post(CHAT, json={"message": "hi"}, headers=account.key_auth)
    assert answer.json()["model"] == "gemini:gemini-2.5-flash" and primary.calls == 5  # failed fast
    primary.failures = 0  # openrouter recovers
    clock.advance(30.0)
    probe = await http.post(CHAT, json={"message": "hi"}, headers=account.key_auth)
    assert probe.json()["model"] == "openrouter:x-ai/grok-beta" and primary.calls == 6
    assert core.router.breaker("openrouter", "x-ai/grok-beta").state is BreakerState.CLOSED
    assert [row[2] for row in ledger(core)] == ["ok", "ok", "ok", "ok"]
