"""Streamed tool calls reassembled from every dialect: OpenRouter's and the OpenAI-compatible
servers' index-keyed pieces (arguments cut mid-JSON, the body cut mid-UTF-8) and Gemini's whole
calls, into the same numbered ToolCallDelta pieces and the same whole calls."""

from __future__ import annotations

import json

import httpx
import pytest

from aihub_core.messages import FunctionTool, Message, ProviderRequest
from aihub_core.providers.base import Provider, StreamEnd, TextDelta, ToolCallDelta
from aihub_core.providers.gemini import GeminiProvider
from aihub_core.providers.openai_compat import OpenAICompatibleProvider
from aihub_core.providers.openai_payload import chat_payload
from aihub_core.simulators import OpenRouterSimulator
from tests.providers.conftest import OPENROUTER_KEY

CITY = FunctionTool(
    "find_city",
    parameters={
        "type": "object",
        "properties": {
            "name": {"type": "string", "enum": ["東京 🗼", "Zürich"]},
            "days": {"type": "integer"},
        },
        "required": ["name", "days"],
    },
)
CLOCK = FunctionTool(
    "read_clock",
    parameters={"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"]},
)
EXPECTED = [
    ("find_city", {"name": "東京 🗼", "days": 42}),
    ("read_clock", {"zone": "zone value"}),
]


def ask(model: str) -> ProviderRequest:
    prompt = Message.of("user", "Use find_city and read_clock, please")
    return ProviderRequest(model, (prompt,), tools=(CITY, CLOCK))


async def reassembled(
    provider: Provider, request: ProviderRequest
) -> tuple[list[tuple[str, object]], StreamEnd]:
    """The calls as a client rebuilds them from the pieces, checking the pieces' form on the way."""
    events = [event async for event in provider.stream(request)]
    *pieces, end = events
    assert isinstance(end, StreamEnd)
    assert not any(isinstance(p, TextDelta) for p in pieces)
    calls: list[tuple[str, str, list[str]]] = []
    for piece in pieces:
        assert isinstance(piece, ToolCallDelta)
        if piece.index == len(calls):  # a new call: its first piece has the id and the name
            assert piece.id.startswith("call_") and piece.name
            calls.append((piece.id, piece.name, [piece.arguments]))
        else:
            assert piece.index == len(calls) - 1 and not piece.id and not piece.name
            calls[piece.index][2].append(piece.arguments)
    assert len({call_id for call_id, _, _ in calls}) == len(calls)
    return [(name, json.loads("".join(arguments))) for _, name, arguments in calls], end


@pytest.mark.parametrize(
    "scenario", ["", "@openai", "@vllm", "@ollama", "@llamacpp", "@unicode", "@single-chunk"]
)
async def test_openai_style_pieces(openrouter: OpenAICompatibleProvider, scenario: str) -> None:
    calls, end = await reassembled(openrouter, ask(f"x-ai/grok-beta{scenario}"))
    assert calls == EXPECTED and end.finish_reason == "tool_calls"
    whole = await openrouter.complete(ask(f"x-ai/grok-beta{scenario}"))
    assert [(c.name, json.loads(c.arguments)) for c in whole.tool_calls] == EXPECTED


async def test_openai_style_pieces_cut_inside_characters_and_json(
    openrouter: OpenAICompatibleProvider, openrouter_sim: OpenRouterSimulator
) -> None:
    # Where the pieces of the first call's arguments are in the streamed body (its ids vary, their
    # lengths do not), then the body cut there: inside 東, 京 and 🗼 and inside each event's JSON.
    async with httpx.AsyncClient() as plain:
        body = (
            await plain.post(
                f"{openrouter_sim.base_url}/chat/completions",
                json=chat_payload(ask("x-ai/grok-beta"), stream=True),
                headers={"Authorization": f"Bearer {OPENROUTER_KEY}"},
            )
        ).content
    start = body.index("東".encode())
    cuts = [
        start + 1,
        start + 4,
        start + 5,
        start + 8,
        start + 9,
        start + 10,
        body.index(b'"arguments": "{') + 16,
    ]
    assert any(body[cut - 1] >= 0x80 and body[cut] & 0xC0 == 0x80 for cut in cuts)  # mid-character
    scenario = "split-at-" + ",".join(str(cut) for cut in cuts)
    calls, end = await reassembled(openrouter, ask(f"x-ai/grok-beta@{scenario}"))
    assert calls == EXPECTED and end.finish_reason == "tool_calls"


@pytest.mark.parametrize("scenario", ["", "@unicode", "@crlf", "@thoughts"])
async def test_gemini_whole_calls(gemini: GeminiProvider, scenario: str) -> None:
    calls, end = await reassembled(gemini, ask(f"gemini-2.5-flash{scenario}"))
    assert calls == EXPECTED and end.finish_reason == "tool_calls"
    assert end.usage.completion_tokens > 0 and end.usage.source == "provider"
