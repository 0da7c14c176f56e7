"""Real simulators on loopback and adapters pointed at them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from aihub_core.messages import Message, ProviderRequest
from aihub_core.providers._http import upstream_session
from aihub_core.providers.base import Provider, StreamEnd, StreamEvent, TextDelta, ToolCallDelta
from aihub_core.providers.gemini import GeminiProvider
from aihub_core.providers.openai_compat import OpenAICompatibleProvider
from aihub_core.providers.timeouts import UpstreamTimeouts
from aihub_core.simulators import GeminiSimulator, OpenRouterSimulator

OPENROUTER_KEY = "sk-or-v1-test-0123456789"
GEMINI_KEY = "AIzaSy-test-0123456789"


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with upstream_session() as shared:
        yield shared


@pytest.fixture
async def openrouter_sim() -> AsyncIterator[OpenRouterSimulator]:
    async with OpenRouterSimulator(chunk_delay_ms=0, api_key=OPENROUTER_KEY) as sim:
        yield sim


@pytest.fixture
async def gemini_sim() -> AsyncIterator[GeminiSimulator]:
    async with GeminiSimulator(chunk_delay_ms=0, api_key=GEMINI_KEY) as sim:
        yield sim


def openrouter_provider(
    sim: OpenRouterSimulator, client: aiohttp.ClientSession, timeouts: UpstreamTimeouts | None = None
) -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider(
        "openrouter", sim.base_url, OPENROUTER_KEY, client, timeouts or UpstreamTimeouts(), simulated=True
    )


def gemini_provider(
    sim: GeminiSimulator, client: aiohttp.ClientSession, timeouts: UpstreamTimeouts | None = None
) -> GeminiProvider:
    return GeminiProvider(
        "gemini", sim.base_url, GEMINI_KEY, client, timeouts or UpstreamTimeouts(), simulated=True
    )


@pytest.fixture
def openrouter(
    openrouter_sim: OpenRouterSimulator, client: aiohttp.ClientSession
) -> OpenAICompatibleProvider:
    return openrouter_provider(openrouter_sim, client)


@pytest.fixture
def gemini(gemini_sim: GeminiSimulator, client: aiohttp.ClientSession) -> GeminiProvider:
    return gemini_provider(gemini_sim, client)


def ask(model: str, text: str = "Hello there", **kwargs: Any) -> ProviderRequest:
    """A system prompt and one user turn."""
    return ProviderRequest(model, (Message.of("system", "Be terse."), Message.of("user", text)), **kwargs)


async def collect(provider: Provider, request: ProviderRequest) -> tuple[str, StreamEnd]:
    """A whole stream: the joined text, checking it is non-empty text deltas (or tool-call pieces)
    then exactly one end."""
    events: list[StreamEvent] = [event async for event in provider.stream(request)]
    *deltas, end = events
    assert all((isinstance(d, TextDelta) and d.text) or isinstance(d, ToolCallDelta) for d in deltas)
    assert isinstance(end, StreamEnd)
    return "".join(d.text for d in deltas if isinstance(d, TextDelta)), end
