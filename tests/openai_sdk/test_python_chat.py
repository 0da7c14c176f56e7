"""The `openai` Python package against a real gateway: chat completions, streamed and not, a tool
round trip over two turns, JSON mode and vision, as OpenAI's own types read them."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import Account
from tests.openai_sdk.client import ASK_WEATHER, PNG_DATA_URI, WEATHER_TOOL, openai_client

MODELS = {"openrouter": "x-ai/grok-beta", "gemini": "gemini-2.5-flash"}


async def test_a_completion_in_openais_shape_counted_like_any_chat(
    http: httpx.AsyncClient, account: Account
) -> None:
    async with openai_client(http, account.key) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="x-ai/grok-beta",
            messages=[
                {"role": "system", "content": "You are terse."},
                {"role": "developer", "content": "Answer in English."},
                {"role": "user", "content": "Hello!", "name": "ann"},
            ],
            max_completion_tokens=100,
            temperature=1.5,  # 0-2 on this route
            top_p=0.9,
            stop=["\n\n"],
            seed=7,
            presence_penalty=0.1,
            frequency_penalty=0.1,
            user="end-user-1",
            n=1,
        )
        completion = raw.parse()
    assert completion.object == "chat.completion" and completion.model == "x-ai/grok-beta"
    request_id = raw.headers["x-request-id"]
    assert completion.id == "chatcmpl-" + request_id.removeprefix("req_")
    [choice] = completion.choices
    assert choice.index == 0 and choice.finish_reason == "stop"
    assert choice.message.role == "assistant" and choice.message.content
    assert choice.message.tool_calls is None
    usage = completion.usage
    assert usage is not None and usage.total_tokens == usage.prompt_tokens + usage.completion_tokens > 0
    assert (usage.model_extra or {})["estimated_cost_usd"] > 0
    assert raw.headers["x-ratelimit-limit"] == "20" and raw.headers["x-ratelimit-remaining"] == "19"
    report = (await http.get("/v1/developer/usage", headers=account.key_auth)).json()
    assert report["total_requests"] == 1
    assert report["total_cost_usd"] == pytest.approx((usage.model_extra or {})["estimated_cost_usd"])


async def test_a_stream_in_openais_chunks_with_the_usage_last(
    http: httpx.AsyncClient, account: Account
) -> None:
    async with openai_client(http, account.key) as client:
        stream = await client.chat.completions.create(
            model="x-ai/grok-beta",
            messages=[{"role": "user", "content": "Tell me a story"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [chunk async for chunk in stream]
    assert len({c.id for c in chunks}) == 1 and chunks[0].id.startswith("chatcmpl-")
    assert all(c.object == "chat.completion.chunk" and c.model == "x-ai/grok-beta" for c in chunks)
    first, *middle, finish, last = chunks
    assert first.choices[0].delta.role == "assistant" and first.choices[0].delta.content == ""
    text = "".join(c.choices[0].delta.content or "" for c in middle)
    assert text and all(c.choices[0].finish_reason is None and c.usage is None for c in middle)
    assert finish.choices[0].finish_reason == "stop" and finish.choices[0].delta.content is None
    assert last.choices == [] and last.usage is not None
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens > 0

    # On the wire: `data:` lines, `[DONE]` last; without include_usage no usage chunk.
    async with http.stream(
        "POST",
        "/v1/chat/completions",
        headers=account.key_auth,
        json={"model": "x-ai/grok-beta", "messages": [{"role": "user", "content": "Hi"}], "stream": True},
    ) as response:
        assert response.headers["content-type"] == "text/event-stream"
        assert response.headers["x-ratelimit-remaining"] == "18"
        lines = [line async for line in response.aiter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    events = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    assert all(e["choices"] and "usage" not in e for e in events)
    assert events[-1]["choices"][0] == {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}


@pytest.mark.parametrize("service", ["openrouter", "gemini"])
async def test_a_tool_call_round_trip_over_two_turns(
    http: httpx.AsyncClient, account: Account, service: str
) -> None:
    question: Any = {"role": "user", "content": ASK_WEATHER}
    async with openai_client(http, account.key) as client:
        first = await client.chat.completions.create(
            model=MODELS[service], messages=[question], tools=[WEATHER_TOOL], tool_choice="auto"
        )
        [choice] = first.choices
        assert choice.finish_reason == "tool_calls" and choice.message.content is None
        [call] = choice.message.tool_calls or []
        assert call.type == "function" and call.id.startswith("call_")
        assert call.function.name == "get_weather"
        assert json.loads(call.function.arguments) == {"city": "city value", "unit": "celsius"}
        result: Any = {"role": "tool", "tool_call_id": call.id, "content": '{"temperature": 21}'}
        # The SDK's own message object goes back as it came.
        answered: Any = choice.message
        second = await client.chat.completions.create(
            model=MODELS[service],
            messages=[question, answered, result],
            tools=[WEATHER_TOOL],
        )
        assert second.choices[0].finish_reason == "stop" and not second.choices[0].message.tool_calls
        assert 'get_weather returned {"temperature": 21}' in (second.choices[0].message.content or "")

        stream = await client.chat.completions.create(
            model=MODELS[service],
            messages=[question],
            tools=[WEATHER_TOOL],
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
            parallel_tool_calls=False,
            stream=True,
        )
        chunks = [chunk async for chunk in stream]
    pieces = [p for c in chunks if c.choices for p in c.choices[0].delta.tool_calls or []]
    opening, *rest = pieces
    assert opening.index == 0 and opening.id and opening.id.startswith("call_") and opening.type == "function"
    assert opening.function is not None and opening.function.name == "get_weather"
    assert all(p.index == 0 and p.id is None and p.function and p.function.name is None for p in rest)
    arguments = "".join((p.function.arguments or "") for p in pieces if p.function)
    assert json.loads(arguments) == {"city": "city value", "unit": "celsius"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize("service", ["openrouter", "gemini"])
async def test_json_mode_and_json_schema(http: httpx.AsyncClient, account: Account, service: str) -> None:
    schema: Any = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city", "days"],
    }
    async with openai_client(http, account.key) as client:
        answer = await client.chat.completions.create(
            model=MODELS[service],
            messages=[{"role": "user", "content": "Plan a trip"}],
            response_format={"type": "json_object"},
        )
        assert isinstance(json.loads(answer.choices[0].message.content or ""), dict)
        shaped = await client.chat.completions.create(
            model=MODELS[service],
            messages=[{"role": "user", "content": "Plan a trip"}],
            response_format={"type": "json_schema", "json_schema": {"name": "plan", "schema": schema}},
        )
    assert json.loads(shaped.choices[0].message.content or "") == {"city": "city value", "days": 42}


async def test_vision_with_a_data_uri(http: httpx.AsyncClient, account: Account) -> None:
    async with openai_client(http, account.key) as client:

        async def ask(*parts: dict[str, Any]) -> int:
            content: Any = [{"type": "text", "text": "What is this?"}, *parts]
            answer = await client.chat.completions.create(
                model="gemini-2.5-flash",
                messages=[{"role": "user", "content": content}],
            )
            assert answer.choices[0].message.content and answer.usage is not None
            return answer.usage.prompt_tokens

        plain = await ask()
        image = {"type": "image_url", "image_url": {"url": PNG_DATA_URI, "detail": "low"}}
        assert await ask(image) >= plain + 258  # the image reached Gemini
