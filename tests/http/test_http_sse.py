"""StreamChat as Server-Sent Events, over a real socket: order, shape, errors, disconnects."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import grpc
import httpx
import pytest
from prometheus_client import CollectorRegistry

from tests.http.canned import STREAM_EVENTS, content
from tests.http.fakes import RATE_LIMIT_METADATA, FakeCore, rate_limited, rich_status
from tests.waiting import eventually

EXPECTED_EVENTS = [
    {"type": "content", "content": "Hello", "model": "x-ai/grok-beta"},
    {"type": "content", "content": " there!", "model": "x-ai/grok-beta"},
    {"type": "session", "session_id": "session_123"},
    {
        "type": "usage",
        "usage": {
            "prompt_tokens": 25,
            "completion_tokens": 150,
            "total_tokens": 175,
            "estimated_cost_usd": 0.00035,
        },
        "metadata": {
            "response_time_ms": 1250,
            "service_used": "openrouter",
            "simulated": False,
            "finish_reason": "stop",
            "request_id": "req_x",
        },
    },
    {"type": "done"},
]


def parse_events(raw: str) -> list[dict[str, Any]]:
    assert raw.endswith("\n\n")
    blocks = raw[:-2].split("\n\n")
    assert all(block.startswith("data: ") and "\n" not in block for block in blocks), raw
    return [json.loads(block.removeprefix("data: ")) for block in blocks]


@pytest.mark.parametrize(
    ("path", "body"), [("/v1/developer/chat/stream", {}), ("/v1/developer/chat", {"stream": True})]
)
async def test_events_in_order_with_sse_headers(
    api: httpx.AsyncClient, fake: FakeCore, path: str, body: dict[str, Any]
) -> None:
    response = await api.post(
        path, json={"message": "hi", "max_tokens": 5, **body}, headers={"Idempotency-Key": "k1"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert response.headers["x-ratelimit-remaining"] == "59"
    assert parse_events(response.text) == EXPECTED_EVENTS
    received = fake.last("StreamChat")
    assert (received.request.message, received.request.max_tokens) == ("hi", 5)
    assert response.headers.get_list("x-request-id") == [received.request_id]
    assert received.metadata["idempotency-key"] == "k1"


async def test_stream_flag_false_on_the_stream_route_still_streams(api: httpx.AsyncClient) -> None:
    response = await api.post("/v1/developer/chat/stream", json={"message": "hi", "stream": False})
    assert response.headers["content-type"] == "text/event-stream"


async def test_error_before_the_first_event_is_a_json_error(api: httpx.AsyncClient, fake: FakeCore) -> None:
    async def refuse(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
        await context.send_initial_metadata(RATE_LIMIT_METADATA)
        await context.abort_with_status(rate_limited(retry_after=3))
        yield  # pragma: no cover - makes this an async generator

    fake.stream_handler = refuse
    response = await api.post("/v1/developer/chat/stream", json={"message": "hi"})
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/json"
    assert response.headers["retry-after"] == "3"
    assert response.headers["x-ratelimit-limit"] == "60"
    assert response.json()["error"]["code"] == "rate_limit_exceeded"


async def test_error_mid_stream_is_a_final_error_event_without_done(
    api: httpx.AsyncClient, fake: FakeCore
) -> None:
    async def fail_midway(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
        yield content("Hel")
        status = rich_status(
            grpc.StatusCode.UNAVAILABLE,
            "The upstream provider failed",
            error_type="api_error",
            error_code="upstream_error",
            http_status=502,
        )
        await context.abort_with_status(status)

    fake.stream_handler = fail_midway
    response = await api.post("/v1/developer/chat/stream", json={"message": "hi"})
    assert response.status_code == 200
    assert parse_events(response.text) == [
        {"type": "content", "content": "Hel", "model": "x-ai/grok-beta"},
        {
            "type": "error",
            "error": {
                "type": "api_error",
                "code": "upstream_error",
                "message": "The upstream provider failed",
            },
        },
    ]


async def test_line_breaking_characters_cannot_split_an_event(api: httpx.AsyncClient, fake: FakeCore) -> None:
    tricky = "讲一个故事\u2028line\u2029para\x85nel\nnewline\r"

    async def tell(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
        yield content(tricky)
        yield STREAM_EVENTS[-1]

    fake.stream_handler = tell
    async with api.stream("POST", "/v1/developer/chat/stream", json={"message": "hi"}) as response:
        lines = [line async for line in response.aiter_lines()]
    assert lines == [lines[0], "", 'data: {"type":"done"}', ""]
    assert "讲一个故事" in lines[0]  # UTF-8, not \u escapes
    assert json.loads(lines[0].removeprefix("data: "))["content"] == tricky


async def test_client_disconnect_mid_stream_cancels_the_grpc_call(
    api: httpx.AsyncClient, fake: FakeCore
) -> None:
    async def slow_model(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
        yield content("first")
        await asyncio.Event().wait()  # the next token never comes
        yield content("never")  # pragma: no cover

    fake.stream_handler = slow_model
    async with api.stream("POST", "/v1/developer/chat/stream", json={"message": "hi"}) as response:
        async for line in response.aiter_lines():
            assert line.startswith("data: ")
            break
    await asyncio.wait_for(fake.cancelled.wait(), timeout=5)


async def test_client_disconnect_before_the_first_event_cancels_the_grpc_call(
    shim_url: str, fake: FakeCore
) -> None:
    async def thinking(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
        await asyncio.Event().wait()
        yield content("never")  # pragma: no cover

    fake.stream_handler = thinking
    await _send_and_hang_up(shim_url, "/v1/developer/chat/stream", b'{"message": "hi"}', fake)
    await asyncio.wait_for(fake.cancelled.wait(), timeout=5)


async def test_client_disconnect_cancels_a_unary_chat(
    shim_url: str, fake: FakeCore, registry: CollectorRegistry
) -> None:
    async def thinking(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        await asyncio.Event().wait()

    fake.handlers["Chat"] = thinking
    await _send_and_hang_up(shim_url, "/v1/developer/chat", b'{"message": "hi"}', fake)
    await asyncio.wait_for(fake.cancelled.wait(), timeout=5)
    labels = {"method": "POST", "route": "/v1/developer/chat", "status": "499"}
    # The shim records the request just after the core sees the cancel.
    await eventually(
        lambda: registry.get_sample_value("aihub_http_requests_total", labels) == 1.0, "the 499 is counted"
    )


async def _send_and_hang_up(base_url: str, path: str, body: bytes, fake: FakeCore) -> None:
    """Send a request on a raw socket, wait until the core has it, then close the socket."""
    url = urlsplit(base_url)
    _, writer = await asyncio.open_connection(url.hostname, url.port)
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n"
    writer.write(head.encode() + body)
    await writer.drain()
    await asyncio.wait_for(fake.called.wait(), timeout=5)
    writer.close()
    await writer.wait_closed()


@pytest.mark.parametrize(
    "text",
    [
        "tok1 ",
        "",
        'quotes " and \\ backslash',
        "line\nbreak\r\ttab\x00\x1f",
        "ünïcødé 中文 🙂",
        "sep\u2028\u2029\x85",
    ],
)
def test_a_content_frame_is_the_bytes_of_its_event(text: str) -> None:
    from aihub.v1 import chat_service_pb2 as pb
    from aihub_http.sse import content_frame, encode_event, event_json

    message = pb.StreamChatResponse(content=pb.ContentEvent(content=text, model=f"m-{text}"))
    event = event_json(message)
    assert event is not None
    assert content_frame(text, f"m-{text}") == encode_event(event)
    decoded = json.loads(content_frame(text, "m")[len(b"data: ") :])
    assert decoded == {"type": "content", "content": text, "model": "m"}


async def test_a_streams_body_frames_skip_the_middlewares_wrappers() -> None:
    """The start goes through the middlewares' send; the frames to the one RequestIdMiddleware got."""
    from aihub.v1 import chat_service_pb2 as pb
    from aihub_http.request_ids import BODY_SEND_KEY
    from aihub_http.sse import SseResponse

    class OneMore:
        def __init__(self) -> None:
            self.left = [pb.StreamChatResponse(done=pb.DoneEvent())]

        async def read(self) -> Any:
            return self.left.pop() if self.left else grpc.aio.EOF

        def cancel(self) -> bool:
            return True

    wrapped: list[str] = []
    direct: list[str] = []

    async def through_middlewares(message: Any) -> None:
        wrapped.append(message["type"])

    async def to_server(message: Any) -> None:
        direct.append(message["type"])

    async def receive() -> Any:
        await asyncio.sleep(3600)

    first = pb.StreamChatResponse(content=pb.ContentEvent(content="tok1 ", model="m"))
    response = SseResponse(OneMore(), first, {})  # type: ignore[arg-type]
    await response({"type": "http", BODY_SEND_KEY: to_server}, receive, through_middlewares)
    assert wrapped == ["http.response.start"]
    assert direct == ["http.response.body"] * 3
