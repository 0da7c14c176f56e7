"""The Gemini adapter maps the message-array form: the exact upstream JSON for tools, tool calls,
tool results, JSON mode, images and sampling parameters; calls and JSON in the answers; what
Gemini cannot take refused before any call; embeddings (against the Gemini simulator)."""

from __future__ import annotations

import base64
import json
import math

import pytest

from aihub_core.errors import InvalidRequestError, UpstreamError
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
from aihub_core.providers.base import ToolCallDelta
from aihub_core.providers.gemini import GeminiProvider
from aihub_core.simulators import GeminiSimulator

MODEL = "gemini-2.0-flash"
JPEG = base64.b64encode(b"\xff\xd8\xff\xe0" + b"\x00" * 24).decode()
FILE = "https://generativelanguage.googleapis.com/v1beta/files/abc-123"
WEATHER = FunctionTool(
    "get_weather",
    "The weather in a city",
    {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"enum": ["celsius", "fahrenheit"]}},
        "required": ["city", "unit"],
        "additionalProperties": False,
    },
)
TIME = FunctionTool("get_time", parameters={"type": "object", "properties": {}})
GEMINI_WEATHER = {
    "type": "OBJECT",
    "properties": {"city": {"type": "STRING"}, "unit": {"type": "STRING", "enum": ["celsius", "fahrenheit"]}},
    "required": ["city", "unit"],
}


def round_trip(*results: Message) -> ProviderRequest:
    """The second turn of two parallel tool calls, with every kind of message."""
    return ProviderRequest(
        MODEL,
        (
            Message.of("system", "Be terse."),
            Message.of("developer", "Use metric units."),
            Message(
                "user",
                ("Weather and time here?", Image("image/jpeg", JPEG), ImageURL(FILE, "image/png")),
                name="ada",
            ),
            Message(
                "assistant",
                ("Checking.",),
                tool_calls=(
                    ToolCall("call_1", "get_weather", '{"city": "Oslo", "unit": "celsius"}'),
                    ToolCall("call_2", "get_time", ""),
                ),
            ),
            *results,
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
        response_format=JsonSchemaFormat(
            "report", {"type": "object", "properties": {"summary": {"type": "string"}}}, "A report"
        ),
    )


RESULTS = (
    Message("tool", ('{"temperature": 21}',), tool_call_id="call_1"),
    Message("tool", ("half past two",), tool_call_id="call_2"),
)


async def test_the_upstream_gets_every_field_in_gemini_form(
    gemini: GeminiProvider, gemini_sim: GeminiSimulator
) -> None:
    completion = await gemini.complete(round_trip(*RESULTS))
    assert gemini_sim.requests[-1].json == {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"text": "Weather and time here?"},
                    {"inlineData": {"mimeType": "image/jpeg", "data": JPEG}},
                    {"fileData": {"fileUri": FILE, "mimeType": "image/png"}},
                ],
            },
            {
                "role": "model",
                "parts": [
                    {"text": "Checking."},
                    {"functionCall": {"name": "get_weather", "args": {"city": "Oslo", "unit": "celsius"}}},
                    {"functionCall": {"name": "get_time", "args": {}}},
                ],
            },
            {  # parallel calls' results go back together, each named after the call it answers
                "role": "user",
                "parts": [
                    {"functionResponse": {"name": "get_weather", "response": {"temperature": 21}}},
                    {"functionResponse": {"name": "get_time", "response": {"result": "half past two"}}},
                ],
            },
        ],
        "systemInstruction": {"parts": [{"text": "Be terse.\n\nUse metric units."}]},
        "generationConfig": {
            "maxOutputTokens": 200,
            "temperature": 1.5,
            "topP": 0.9,
            "seed": 7,
            "presencePenalty": 0.5,
            "frequencyPenalty": -0.5,
            "stopSequences": ["END"],
            "responseMimeType": "application/json",
            "responseSchema": {
                "type": "OBJECT",
                "properties": {"summary": {"type": "STRING"}},
                "propertyOrdering": ["summary"],
            },
        },
        "tools": [
            {
                "functionDeclarations": [
                    {
                        "name": "get_weather",
                        "description": "The weather in a city",
                        "parameters": GEMINI_WEATHER,
                    },
                    {"name": "get_time"},  # no properties: Gemini refuses an empty OBJECT
                ]
            }
        ],
        "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}},
    }
    assert 'get_time returned {"result": "half past two"}' in completion.text


@pytest.mark.parametrize(("content", "response"), [("[1, 2]", {"result": [1, 2]}), ("", {"result": ""})])
async def test_results_that_are_not_objects_are_wrapped(
    gemini: GeminiProvider, gemini_sim: GeminiSimulator, content: str, response: object
) -> None:
    await gemini.complete(round_trip(Message("tool", (content,), tool_call_id="call_1"), RESULTS[1]))
    part = gemini_sim.requests[-1].json["contents"][-1]["parts"][0]
    assert part == {"functionResponse": {"name": "get_weather", "response": response}}


@pytest.mark.parametrize("choice", ["auto", "none", "required"])
async def test_tool_choice_modes(gemini: GeminiProvider, gemini_sim: GeminiSimulator, choice: str) -> None:
    ask = ProviderRequest(MODEL, (Message.of("user", "hi"),), tools=(WEATHER,), tool_choice=choice)  # type: ignore[arg-type]
    await gemini.complete(ask)
    mode = {"auto": "AUTO", "none": "NONE", "required": "ANY"}[choice]
    assert gemini_sim.requests[-1].json["toolConfig"] == {"functionCallingConfig": {"mode": mode}}


async def test_calls_come_whole_with_ids_of_ours_and_finish_tool_calls(gemini: GeminiProvider) -> None:
    ask = ProviderRequest(MODEL, (Message.of("user", "Use get_weather and get_time"),), tools=(WEATHER, TIME))
    whole = await gemini.complete(ask)
    assert [c.name for c in whole.tool_calls] == ["get_weather", "get_time"]
    assert json.loads(whole.tool_calls[0].arguments) == {"city": "city value", "unit": "celsius"}
    assert all(c.id.startswith("call_") for c in whole.tool_calls) and whole.finish_reason == "tool_calls"
    events = [event async for event in gemini.stream(ask)]
    pieces = [e for e in events if isinstance(e, ToolCallDelta)]
    assert [(p.index, p.name, json.loads(p.arguments)) for p in pieces] == [
        (0, "get_weather", {"city": "city value", "unit": "celsius"}),
        (1, "get_time", {}),
    ]
    assert all(p.id.startswith("call_") for p in pieces) and pieces[0].id != pieces[1].id
    assert events[-1].finish_reason == "tool_calls"  # type: ignore[union-attr]  # Gemini said STOP


async def test_json_mode(gemini: GeminiProvider, gemini_sim: GeminiSimulator) -> None:
    answer = await gemini.complete(
        ProviderRequest(MODEL, (Message.of("user", "JSON please"),), response_format="json_object")
    )
    assert gemini_sim.requests[-1].json["generationConfig"] == {"responseMimeType": "application/json"}
    assert isinstance(json.loads(answer.text), dict)


@pytest.mark.parametrize(
    ("message", "param", "code"),
    [
        (
            Message("user", ("What is this?", ImageURL("https://example.com/cat.png"))),
            "messages[0].content[1].image.url",
            "image_url_not_supported",
        ),
        (Message("tool", ("{}",), tool_call_id="call_9"), "messages[0].tool_call_id", "invalid_parameter"),
        (
            Message("assistant", tool_calls=(ToolCall("call_1", "f", "[1]"),)),
            "messages[0].tool_calls[0].function.arguments",
            "invalid_parameter",
        ),
    ],
)
async def test_what_gemini_cannot_take_is_refused_before_any_call(
    gemini: GeminiProvider, gemini_sim: GeminiSimulator, message: Message, param: str, code: str
) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        gemini.check(ProviderRequest(MODEL, (message,)))
    assert (raised.value.details["parameter"], raised.value.code) == (param, code)
    assert not gemini_sim.requests


async def test_embeddings_in_batches_of_a_hundred(
    gemini: GeminiProvider, gemini_sim: GeminiSimulator
) -> None:
    texts = tuple(f"text {n}" for n in range(150))
    result = await gemini.embed(EmbeddingRequest("text-embedding-004", texts, dimensions=64))
    batches = sorted((r.json for r in gemini_sim.requests), key=lambda body: -len(body["requests"]))
    assert [r.path for r in gemini_sim.requests] == [
        "/v1beta/models/text-embedding-004:batchEmbedContents"
    ] * 2
    assert [len(b["requests"]) for b in batches] == [100, 50]
    assert batches[0]["requests"][0] == {
        "model": "models/text-embedding-004",
        "outputDimensionality": 64,
        "content": {"parts": [{"text": "text 0"}]},
    }
    assert len(result.vectors) == 150 and all(len(v) == 64 for v in result.vectors)
    assert math.isclose(sum(v * v for v in result.vectors[149]), 1.0, rel_tol=1e-6)
    again = await gemini.embed(EmbeddingRequest("text-embedding-004", ("text 149",), dimensions=64))
    assert again.vectors[0] == result.vectors[149]  # the same text, the same vector, in its place
    # Gemini counts no tokens for embeddings: estimated from the texts.
    assert (result.usage.source, result.usage.prompt_tokens) == ("estimated", 150 * 2)


async def test_a_failed_batch_fails_the_call_with_our_error(
    gemini: GeminiProvider, gemini_sim: GeminiSimulator
) -> None:
    gemini_sim.scenario = "error-503"
    with pytest.raises(UpstreamError) as raised:
        await gemini.embed(EmbeddingRequest("text-embedding-004", tuple(f"t{n}" for n in range(150))))
    assert raised.value.details["upstream_status"] == "503" and raised.value.details["retryable"] == "true"
