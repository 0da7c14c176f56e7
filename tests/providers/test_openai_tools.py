"""The OpenAI-compatible adapter carries the message-array form faithfully: the exact upstream JSON
for tools, tool calls, tool results, JSON mode, images and sampling parameters, and the tool calls
and JSON of the answers (against the OpenRouter simulator)."""

from __future__ import annotations

import base64
import json
import math

from aihub_core.messages import (
    EmbeddingRequest,
    FunctionTool,
    Image,
    ImageURL,
    JsonSchemaFormat,
    Message,
    NamedTool,
    ProviderRequest,
    ToolCall,
)
from aihub_core.providers.base import TextDelta, ToolCallDelta
from aihub_core.providers.openai_compat import OpenAICompatibleProvider
from aihub_core.simulators import OpenRouterSimulator
from tests.providers.conftest import collect

MODEL = "x-ai/grok-beta"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16).decode()
WEATHER = FunctionTool(
    "get_weather",
    "The weather in a city",
    {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"enum": ["celsius", "fahrenheit"]}},
        "required": ["city", "unit"],
        "additionalProperties": False,
    },
    strict=True,
)
TIME = FunctionTool("get_time", parameters={"type": "object", "properties": {"zone": {"type": "string"}}})


def round_trip() -> ProviderRequest:
    """A conversation with every kind of message: the second turn of a tool call."""
    return ProviderRequest(
        MODEL,
        (
            Message.of("system", "Be terse."),
            Message.of("developer", "Use metric units."),
            Message(
                "user",
                (
                    "Weather where this is?",
                    Image("image/png", PNG, "low"),
                    ImageURL("https://example.com/a.jpg"),
                ),
                name="ada",
            ),
            Message(
                "assistant",
                tool_calls=(ToolCall("call_1", "get_weather", '{"city": "Oslo", "unit": "celsius"}'),),
            ),
            Message("tool", ('{"temperature": 21}',), tool_call_id="call_1"),
        ),
        max_tokens=200,
        temperature=1.5,
        top_p=0.9,
        stop=("END",),
        seed=7,
        presence_penalty=0.5,
        frequency_penalty=-0.5,
        user="user-42",
        tools=(WEATHER, TIME),
        tool_choice=NamedTool("get_weather"),
        parallel_tool_calls=False,
        response_format=JsonSchemaFormat("weather", {"type": "object"}, "A report", strict=True),
    )


async def test_the_upstream_gets_every_field_in_openai_form(
    openrouter: OpenAICompatibleProvider, openrouter_sim: OpenRouterSimulator
) -> None:
    completion = await openrouter.complete(round_trip())
    sent = openrouter_sim.requests[-1].json
    assert sent == {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": "Be terse."},
            {"role": "system", "content": "Use metric units."},  # developer: every server takes `system`
            {
                "role": "user",
                "name": "ada",
                "content": [
                    {"type": "text", "text": "Weather where this is?"},
                    {
                        "type": "image_url",
                        "image_url": {"url": f"data:image/png;base64,{PNG}", "detail": "low"},
                    },
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.jpg"}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {
                            "name": "get_weather",
                            "arguments": '{"city": "Oslo", "unit": "celsius"}',
                        },
                    }
                ],
            },
            {"role": "tool", "content": '{"temperature": 21}', "tool_call_id": "call_1"},
        ],
        "max_tokens": 200,
        "temperature": 1.5,
        "top_p": 0.9,
        "seed": 7,
        "presence_penalty": 0.5,
        "frequency_penalty": -0.5,
        "stop": ["END"],
        "user": "user-42",
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "The weather in a city",
                    "parameters": WEATHER.parameters,
                    "strict": True,
                },
            },
            {"type": "function", "function": {"name": "get_time", "parameters": TIME.parameters}},
        ],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "parallel_tool_calls": False,
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "weather",
                "schema": {"type": "object"},
                "description": "A report",
                "strict": True,
            },
        },
    }
    # The simulated model quotes the tool's result it was given back.
    assert 'get_weather returned {"temperature": 21}' in completion.text
    assert completion.finish_reason == "stop" and completion.tool_calls == ()


async def test_a_tool_call_answer_whole_and_streamed(
    openrouter: OpenAICompatibleProvider, openrouter_sim: OpenRouterSimulator
) -> None:
    ask = ProviderRequest(
        MODEL, (Message.of("user", "Please call get_weather for me"),), tools=(WEATHER, TIME)
    )
    whole = await openrouter.complete(ask)
    [call] = whole.tool_calls
    assert (call.name, json.loads(call.arguments), whole.finish_reason, whole.text) == (
        "get_weather",
        {"city": "city value", "unit": "celsius"},
        "tool_calls",
        "",
    )
    assert call.id.startswith("call_") and whole.usage.completion_tokens > 0
    assert openrouter_sim.requests[-1].json["tools"][1] == {
        "type": "function",
        "function": {"name": "get_time", "parameters": TIME.parameters},
    }
    events = [event async for event in openrouter.stream(ask)]
    pieces = [e for e in events if isinstance(e, ToolCallDelta)]
    assert not any(isinstance(e, TextDelta) for e in events)
    assert pieces[0].index == 0 and pieces[0].id.startswith("call_") and pieces[0].name == "get_weather"
    assert len(pieces) >= 3 and all(p.index == 0 and not p.id and not p.name for p in pieces[1:])
    assert json.loads("".join(p.arguments for p in pieces)) == json.loads(call.arguments)
    assert events[-1].finish_reason == "tool_calls"  # type: ignore[union-attr]


async def test_parallel_calls_arrive_as_numbered_calls(openrouter: OpenAICompatibleProvider) -> None:
    ask = ProviderRequest(MODEL, (Message.of("user", "Use get_weather and get_time"),), tools=(WEATHER, TIME))
    events = [event async for event in openrouter.stream(ask)]
    heads = [e for e in events if isinstance(e, ToolCallDelta) and e.id]
    assert [(h.index, h.name) for h in heads] == [(0, "get_weather"), (1, "get_time")]
    whole = await openrouter.complete(ask)
    assert [c.name for c in whole.tool_calls] == ["get_weather", "get_time"]
    single = await openrouter.complete(
        ProviderRequest(MODEL, ask.messages, tools=(WEATHER, TIME), parallel_tool_calls=False)
    )
    assert [c.name for c in single.tool_calls] == ["get_weather"]


async def test_json_mode_answers_json(
    openrouter: OpenAICompatibleProvider, openrouter_sim: OpenRouterSimulator
) -> None:
    plain = await openrouter.complete(
        ProviderRequest(MODEL, (Message.of("user", "Reply in JSON"),), response_format="json_object")
    )
    assert openrouter_sim.requests[-1].json["response_format"] == {"type": "json_object"}
    assert isinstance(json.loads(plain.text)["answer"], str)
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "high": {"type": "number"}, "rain": {"type": "boolean"}},
        "required": ["city", "high", "rain"],
    }
    text, end = await collect(
        openrouter,
        ProviderRequest(
            MODEL, (Message.of("user", "Weather?"),), response_format=JsonSchemaFormat("w", schema)
        ),
    )
    assert (
        json.loads(text) == {"city": "city value", "high": 3.5, "rain": True} and end.finish_reason == "stop"
    )


async def test_embeddings_ask_for_floats_and_keep_the_order(
    openrouter: OpenAICompatibleProvider, openrouter_sim: OpenRouterSimulator
) -> None:
    request = EmbeddingRequest(
        "openai/text-embedding-3-small", ("alpha", "beta", "alpha"), dimensions=256, user="u"
    )
    result = await openrouter.embed(request)
    assert openrouter_sim.requests[-1].path == "/api/v1/embeddings"
    assert openrouter_sim.requests[-1].json == {
        "model": "openai/text-embedding-3-small",
        "input": ["alpha", "beta", "alpha"],
        "encoding_format": "float",
        "dimensions": 256,
        "user": "u",
    }
    first, second, third = result.vectors
    assert len(first) == 256 and first == third and first != second
    assert math.isclose(sum(v * v for v in first), 1.0, rel_tol=1e-9)
    assert (result.usage.prompt_tokens, result.usage.source, result.model) == (
        5,  # alpha 2 + beta 1 + alpha 2, as the simulator counts
        "provider",
        "openai/text-embedding-3-small",
    )
