"""The OpenAI-compatible routes' translation, against a fake core: OpenAI's JSON -> the request
message field by field, a core error -> OpenAI's error with its headers, core events -> chunks."""

from __future__ import annotations

import base64
import json
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import json_format

from aihub.v1 import chat_service_pb2 as chat_pb
from aihub.v1 import conversation_pb2 as conv_pb
from aihub_http.openai.errors import openai_param
from tests.http.fakes import RATE_LIMIT_METADATA, FakeCore, rate_limited, rich_status

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8
AUTH = {"Authorization": "Bearer ai-hub-test", "Idempotency-Key": "k-1"}


@pytest.mark.parametrize(
    ("core", "openai"),
    [
        ("generation.temperature", "temperature"),
        ("generation.max_tokens", "max_tokens"),
        ("tool_choice.function_name", "tool_choice"),
        ("messages[0].content[1].image.url", "messages[0].content[1].image_url.url"),
        ("messages[0].content[1].image.data", "messages[0].content[1].image_url.url"),
        ("messages[0].content[1].image.detail", "messages[0].content[1].image_url.detail"),
        ("messages[0].content[1].image", "messages[0].content[1].image_url"),
        ("messages[2].tool_calls[0].function.name", "messages[2].tool_calls[0].function.name"),
        ("tools[0].function.parameters", "tools[0].function.parameters"),
        ("model", "model"),
    ],
)
def test_the_cores_field_paths_become_openais_names(core: str, openai: str) -> None:
    assert openai_param(core) == openai
    assert openai_param(openai) == openai  # idempotent
    assert openai_param("generation.max_tokens", "max_completion_tokens") == "max_completion_tokens"


async def test_a_body_becomes_the_request_message_field_by_field(
    api: httpx.AsyncClient, fake: FakeCore
) -> None:
    fake.replies["CreateChatCompletion"] = chat_pb.CreateChatCompletionResponse(
        model="openrouter:x-ai/grok-beta",
        message=conv_pb.ChatMessage(role=conv_pb.ROLE_ASSISTANT, content=[conv_pb.ContentPart(text="Hi!")]),
        usage=chat_pb.Usage(prompt_tokens=3, completion_tokens=2, total_tokens=5, estimated_cost_usd=1e-6),
        metadata=chat_pb.ChatMetadata(
            finish_reason="stop", service_used="openrouter", request_id="req_" + "a" * 24
        ),
    )
    data_uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    body: dict[str, Any] = {
        "model": "openrouter:x-ai/grok-beta",
        "messages": [
            {"role": "developer", "content": "Be brief."},
            {
                "role": "user",
                "name": "ann",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": data_uri, "detail": "low"}},
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "refusal": None,
                "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": [{"type": "text", "text": "42"}]},
        ],
        "tools": [
            {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "maxItems": 3}}}
        ],
        "tool_choice": {"type": "function", "function": {"name": "f"}},
        "parallel_tool_calls": False,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "s", "schema": {"type": "object"}},
        },
        "max_completion_tokens": 99,
        "temperature": 1.5,
        "top_p": 0.5,
        "stop": "END",
        "seed": 7,
        "presence_penalty": -1,
        "frequency_penalty": 1,
        "user": "u-1",
        "n": 1,
        "logprobs": False,
        "store": True,
        "metadata": {"a": "b"},
    }
    answer = await api.post("/v1/chat/completions", json=body, headers=AUTH)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "id": "chatcmpl-" + "a" * 24,
        "object": "chat.completion",
        "created": answer.json()["created"],
        "model": "x-ai/grok-beta",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hi!", "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5, "estimated_cost_usd": 1e-6},
    }
    assert answer.headers["x-ratelimit-limit"] == "60"
    received = fake.last("CreateChatCompletion")
    assert received.metadata["authorization"] == "Bearer ai-hub-test"
    assert received.metadata["idempotency-key"] == "k-1"
    sent = received.request
    expected = chat_pb.CreateChatCompletionRequest(
        model="openrouter:x-ai/grok-beta",
        messages=[
            conv_pb.ChatMessage(role=conv_pb.ROLE_DEVELOPER, content=[conv_pb.ContentPart(text="Be brief.")]),
            conv_pb.ChatMessage(
                role=conv_pb.ROLE_USER,
                name="ann",
                content=[
                    conv_pb.ContentPart(text="What is this?"),
                    conv_pb.ContentPart(image=conv_pb.ImageContent(data=PNG, detail="low")),
                    conv_pb.ContentPart(image=conv_pb.ImageContent(url="https://example.com/a.png")),
                ],
            ),
            conv_pb.ChatMessage(
                role=conv_pb.ROLE_ASSISTANT,
                tool_calls=[
                    conv_pb.ToolCall(id="call_1", function=conv_pb.FunctionCall(name="f", arguments="{}"))
                ],
            ),
            conv_pb.ChatMessage(
                role=conv_pb.ROLE_TOOL, tool_call_id="call_1", content=[conv_pb.ContentPart(text="42")]
            ),
        ],
        tool_choice=conv_pb.ToolChoice(function_name="f"),
        parallel_tool_calls=False,
        generation=conv_pb.GenerationConfig(
            max_tokens=99,
            temperature=1.5,
            top_p=0.5,
            stop=["END"],
            seed=7,
            presence_penalty=-1,
            frequency_penalty=1,
        ),
        user="u-1",
    )
    tool = expected.tools.add().function
    tool.name = "f"
    json_format.ParseDict({"type": "object", "maxItems": 3}, tool.parameters)
    expected.response_format.json_schema.name = "s"
    json_format.ParseDict({"type": "object"}, expected.response_format.json_schema.schema)
    assert sent == expected


async def test_a_core_refusal_is_openais_error_with_the_limits_headers(
    api: httpx.AsyncClient, fake: FakeCore
) -> None:
    fake.fail("CreateChatCompletion", rate_limited(1.2))
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    refused = await api.post("/v1/chat/completions", json=body, headers=AUTH)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "2" and refused.headers["x-ratelimit-remaining"] == "59"
    assert refused.json() == {
        "error": {
            "message": "Rate limit exceeded: 60 requests per minute",
            "type": "rate_limit_error",
            "param": None,
            "code": "rate_limit_exceeded",
        },
        "request_id": refused.headers["x-request-id"],
    }
    fake.fail(
        "CreateChatCompletion",
        rich_status(
            grpc.StatusCode.INVALID_ARGUMENT,
            "generation.max_tokens: must be at least 1",
            error_type="invalid_request_error",
            error_code="invalid_parameter",
            http_status=400,
            details={"parameter": "generation.max_tokens"},
        ),
    )
    bad = await api.post("/v1/chat/completions", json={**body, "max_completion_tokens": 0}, headers=AUTH)
    assert bad.json()["error"]["param"] == "max_completion_tokens"
    assert bad.json()["error"]["message"] == "max_completion_tokens: must be at least 1"


def _delta(content: str = "", *pieces: conv_pb.ToolCallDelta) -> chat_pb.StreamChatCompletionResponse:
    return chat_pb.StreamChatCompletionResponse(
        delta=chat_pb.CompletionDelta(content=content, tool_calls=pieces, model="x-ai/grok-beta")
    )


async def test_core_events_become_openais_chunks_and_a_late_failure_the_error_object(
    api: httpx.AsyncClient, fake: FakeCore
) -> None:
    async def events(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        await context.send_initial_metadata((("x-request-id", "req_" + "b" * 24), *RATE_LIMIT_METADATA))
        yield _delta("Hel")
        yield _delta("", conv_pb.ToolCallDelta(index=0, id="call_9", name="f", arguments='{"a"'))
        yield _delta("", conv_pb.ToolCallDelta(index=0, arguments=": 1}"))
        await context.abort_with_status(
            rich_status(
                grpc.StatusCode.UNAVAILABLE,
                "The upstream failed",
                error_type="api_error",
                error_code="upstream_error",
                http_status=502,
            )
        )

    fake.stream_handler = events
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    async with api.stream("POST", "/v1/chat/completions", json=body, headers=AUTH) as answer:
        assert answer.status_code == 200 and answer.headers["x-ratelimit-limit"] == "60"
        lines = [line async for line in answer.aiter_lines() if line]
    frames = [json.loads(line.removeprefix("data: ")) for line in lines]
    deltas = [frame["choices"][0]["delta"] for frame in frames[:-1]]
    assert deltas == [
        {"role": "assistant", "content": "", "refusal": None},
        {"content": "Hel"},
        {
            "tool_calls": [
                {
                    "index": 0,
                    "id": "call_9",
                    "type": "function",
                    "function": {"name": "f", "arguments": '{"a"'},
                }
            ]
        },
        {"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]},
    ]
    assert {frame["id"] for frame in frames[:-1]} == {"chatcmpl-" + "b" * 24}
    assert all("usage" not in frame and frame["object"] == "chat.completion.chunk" for frame in frames[:-1])
    assert frames[-1] == {
        "error": {
            "message": "The upstream failed",
            "type": "api_error",
            "param": None,
            "code": "upstream_error",
        }
    }


async def test_a_wrong_method_on_an_openai_path_is_openais_405(api: httpx.AsyncClient) -> None:
    answer = await api.get("/v1/chat/completions", headers=AUTH)
    assert answer.status_code == 405 and answer.headers["allow"] == "POST"
    assert answer.json()["error"] == {
        "message": "GET is not allowed on /v1/chat/completions",
        "type": "invalid_request_error",
        "param": None,
        "code": "method_not_allowed",
    }


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"input": "hi"}, "missing_parameter", "model"),
        ({"model": "m"}, "missing_parameter", "input"),
        ({"model": "m", "input": [[1, 2]]}, "unsupported_parameter", "input[0]"),
        ({"model": "m", "input": [17]}, "unsupported_parameter", "input[0]"),
        ({"model": "m", "input": "hi", "encoding_format": "int8"}, "invalid_parameter", "encoding_format"),
        ({"model": "m", "input": "hi", "dimensions": 1.5}, "invalid_parameter", "dimensions"),
        ({"model": "m", "input": "hi", "extra": 1}, "unknown_parameter", "extra"),
    ],
)
async def test_embeddings_bodies_refused_before_the_core_name_the_parameter(
    api: httpx.AsyncClient, fake: FakeCore, body: dict[str, Any], code: str, param: str
) -> None:
    refused = await api.post("/v1/embeddings", json=body, headers=AUTH)
    assert refused.status_code == 400
    assert (refused.json()["error"]["code"], refused.json()["error"]["param"]) == (code, param)
    assert fake.calls == []
