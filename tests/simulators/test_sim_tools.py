"""Simulated tool calls, tool results, JSON mode and embeddings: the model's rules, and each
simulator's wire (as a plain HTTP client sees it)."""

from __future__ import annotations

import base64
import json
import math
import struct
from typing import Any

import httpx
import pytest

from aihub_core.simulators import GeminiSimulator, OpenRouterSimulator
from aihub_core.simulators.text import SimulatedAnswer
from aihub_core.simulators.tools import Asked, Offer, SimCall, json_answer, plan_calls, respond

WEATHER = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "days": {"type": "integer"},
        "unit": {"enum": ["celsius", "fahrenheit"]},
        "where": {"type": "object", "properties": {"lat": {"type": "number"}}, "required": ["lat"]},
        "tags": {"type": "array", "items": {"type": "boolean"}},
        "note": {"type": "string"},
    },
    "required": ["city", "days", "unit", "where", "tags"],
}
TOOLS = (("get_weather", WEATHER), ("get_time", {"type": "object"}))


@pytest.mark.parametrize(
    ("offer", "prompt", "called"),
    [
        (Offer(TOOLS), "What is get_time saying?", ["get_time"]),
        (Offer(TOOLS), "Use get_weather and get_time", ["get_weather", "get_time"]),
        (Offer(TOOLS, parallel=False), "Use get_weather and get_time", ["get_weather"]),
        (Offer(TOOLS), "Please call a tool", ["get_weather"]),
        (Offer(TOOLS), "use the tool", ["get_weather"]),
        (Offer(TOOLS), "I recall nothing", []),
        (Offer(TOOLS, choice="required"), "hello", ["get_weather"]),
        (Offer(TOOLS, choice="required", only="get_time"), "hello", ["get_time"]),
        (Offer(TOOLS, choice="none"), "call get_weather", []),
    ],
)
def test_which_tools_the_model_calls(offer: Offer, prompt: str, called: list[str]) -> None:
    assert [c.name for c in plan_calls(offer, prompt)] == called


def test_arguments_hold_the_required_properties_of_their_types() -> None:
    [call] = plan_calls(Offer(TOOLS), "call get_weather")
    assert call.arguments == {
        "city": "city value",
        "days": 42,
        "unit": "celsius",
        "where": {"lat": 3.5},
        "tags": [True],
    }
    assert json.loads(call.text) == call.arguments


def test_tool_results_are_quoted_and_json_mode_answers_json() -> None:
    plain = SimulatedAnswer((" some", " text"), False)
    quoted, calls = respond(Asked(tool_results=(("get_time", '"14:30"'),)), plain, None)
    assert quoted.text == 'The tool results are in: get_time returned "14:30".' and calls == ()
    assert json.loads(json_answer(None, "hi there", None).text) == {"answer": "hi there"}
    cut = json_answer(WEATHER, "", 3)
    assert cut.truncated and len(cut.tokens) == 3  # max_tokens cuts JSON as it cuts text


async def chat(client: httpx.AsyncClient, sim: OpenRouterSimulator, **body: Any) -> httpx.Response:
    messages = body.pop("messages", [{"role": "user", "content": "Use get_weather and get_time"}])
    payload = {"model": "x-ai/grok-beta", "messages": messages, **body}
    return await client.post(f"{sim.base_url}/chat/completions", json=payload)


def openai_tools() -> list[dict[str, Any]]:
    return [{"type": "function", "function": {"name": n, "parameters": p}} for n, p in TOOLS]


async def test_openrouter_answers_calls_then_their_results(
    client: httpx.AsyncClient, openrouter_sim: OpenRouterSimulator
) -> None:
    first = (await chat(client, openrouter_sim, tools=openai_tools())).json()
    message = first["choices"][0]["message"]
    assert first["choices"][0]["finish_reason"] == "tool_calls" and message["content"] is None
    assert [c["function"]["name"] for c in message["tool_calls"]] == ["get_weather", "get_time"]
    assert first["usage"]["completion_tokens"] == sum(
        SimCall(c["function"]["name"], json.loads(c["function"]["arguments"])).tokens
        for c in message["tool_calls"]
    )
    results = [{"role": "tool", "tool_call_id": c["id"], "content": "sunny"} for c in message["tool_calls"]]
    messages = [{"role": "user", "content": "Use get_weather and get_time"}, message, *results]
    second = (await chat(client, openrouter_sim, tools=openai_tools(), messages=messages)).json()
    assert second["choices"][0]["message"]["content"] == (
        "The tool results are in: get_weather returned sunny; get_time returned sunny."
    )
    orphan = await chat(
        client, openrouter_sim, messages=[{"role": "tool", "tool_call_id": "x", "content": "1"}]
    )
    assert orphan.status_code == 400


async def test_openrouter_embeddings_in_float_and_base64(
    client: httpx.AsyncClient, openrouter_sim: OpenRouterSimulator
) -> None:
    url = f"{openrouter_sim.base_url}/embeddings"
    body = {"model": "openai/text-embedding-3-small", "input": ["one", "two"]}
    floats = (await client.post(url, json=body)).json()
    packed = (await client.post(url, json={**body, "encoding_format": "base64"})).json()
    vector = floats["data"][0]["embedding"]
    assert len(vector) == 1536 and math.isclose(sum(v * v for v in vector), 1.0, rel_tol=1e-9)
    raw = base64.b64decode(packed["data"][0]["embedding"])
    assert struct.unpack(f"<{len(raw) // 4}f", raw) == pytest.approx(vector, abs=1e-7)
    assert floats["usage"]["prompt_tokens"] == 2 and floats["data"][1]["index"] == 1
    chat_model = await client.post(url, json={**body, "model": "x-ai/grok-beta"})
    assert chat_model.status_code == 404


def gemini_body(tools: list[dict[str, Any]], text: str = "call get_weather") -> dict[str, Any]:
    return {
        "contents": [{"role": "user", "parts": [{"text": text}]}],
        "tools": [{"functionDeclarations": tools}],
    }


async def test_gemini_streams_each_call_whole(client: httpx.AsyncClient, gemini_sim: GeminiSimulator) -> None:
    declarations: list[dict[str, Any]] = [
        {"name": "get_weather", "parameters": WEATHER},
        {"name": "get_time"},
    ]
    url = f"{gemini_sim.base_url}/models/gemini-2.0-flash:streamGenerateContent?alt=sse"
    body = gemini_body(declarations, "Use get_weather and get_time")
    events = [
        json.loads(line[6:]) for line in (await client.post(url, json=body)).text.split("\r\n\r\n") if line
    ]
    parts = [event["candidates"][0]["content"]["parts"] for event in events]
    assert [[p["functionCall"]["name"] for p in chunk] for chunk in parts] == [["get_weather"], ["get_time"]]
    assert isinstance(parts[0][0]["functionCall"]["args"], dict)
    last = events[-1]["candidates"][0]
    assert last["finishReason"] == "STOP" and "finishReason" not in events[0]["candidates"][0]
    assert last["finishMessage"] == "Model generated function call(s)."


@pytest.mark.parametrize(
    ("parameters", "says"),
    [
        (
            {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False},
            "Unknown name",
        ),
        ({"type": "object", "properties": {}}, "should be non-empty for OBJECT type"),
        ({"type": "OBJECT", "properties": {"a": {"type": "text"}}}, "Invalid value"),
    ],
)
async def test_gemini_refuses_what_its_schema_lacks(
    client: httpx.AsyncClient, gemini_sim: GeminiSimulator, parameters: dict[str, Any], says: str
) -> None:
    url = f"{gemini_sim.base_url}/models/gemini-2.0-flash:generateContent"
    answer = await client.post(url, json=gemini_body([{"name": "f", "parameters": parameters}]))
    assert answer.status_code == 400 and says in answer.json()["error"]["message"]


async def test_gemini_json_mode_follows_the_response_schema(
    client: httpx.AsyncClient, gemini_sim: GeminiSimulator
) -> None:
    url = f"{gemini_sim.base_url}/models/gemini-2.0-flash:generateContent"
    schema = {"type": "OBJECT", "properties": {"n": {"type": "INTEGER"}}, "required": ["n"]}
    config = {"responseMimeType": "application/json", "responseSchema": schema}
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "generationConfig": config}
    answer = (await client.post(url, json=body)).json()
    assert json.loads(answer["candidates"][0]["content"]["parts"][0]["text"]) == {"n": 42}
    without_mime = {**body, "generationConfig": {"responseSchema": schema}}
    assert (await client.post(url, json=without_mime)).status_code == 400


async def test_gemini_batch_embeddings(client: httpx.AsyncClient, gemini_sim: GeminiSimulator) -> None:
    url = f"{gemini_sim.base_url}/models/text-embedding-004:batchEmbedContents"

    def one(text: str, size: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"model": "models/text-embedding-004", "content": {"parts": [{"text": text}]}}
        return {**out, "outputDimensionality": size} if size else out

    answer = (await client.post(url, json={"requests": [one("a"), one("a", 8)]})).json()
    full, short = (e["values"] for e in answer["embeddings"])
    assert len(full) == 768 and len(short) == 8 and "usageMetadata" not in answer
    assert short == pytest.approx([v / math.sqrt(sum(x * x for x in full[:8])) for v in full[:8]])
    too_many = await client.post(url, json={"requests": [one("a")] * 101})
    assert too_many.status_code == 400 and "at most 100" in too_many.json()["error"]["message"]
    chat_model = await client.post(
        url.replace("text-embedding-004", "gemini-2.0-flash"), json={"requests": [one("a")]}
    )
    assert chat_model.status_code == 404
