"""`chat.stream(...)`: typed events, errors, truncation and closing, sync and async."""

from __future__ import annotations

from collections.abc import Sequence

import httpx
import pytest
from ai_hub_fakes import Chunks, FakeGateway, error_reply, sse, sse_reply

from ai_hub import (
    AIHub,
    APIConnectionError,
    APIError,
    AsyncAIHub,
    AuthenticationError,
    ContentEvent,
    DoneEvent,
    RateLimit,
    RateLimitError,
    SessionEvent,
    Usage,
    UsageEvent,
)

EVENTS = sse(
    {"type": "content", "content": "Hello", "model": "grok-beta"},
    {"type": "content", "content": " 世界 🚀", "model": "grok-beta"},
    {"type": "session", "session_id": "session_123"},
    {
        "type": "usage",
        "usage": {
            "prompt_tokens": 5,
            "completion_tokens": 3,
            "total_tokens": 8,
            "estimated_cost_usd": 0.0001,
        },
        "metadata": {"service_used": "openrouter", "simulated": True, "finish_reason": "stop"},
    },
    {"type": "done"},
)
EXPECTED = [
    ContentEvent(content="Hello", model="grok-beta"),
    ContentEvent(content=" 世界 🚀", model="grok-beta"),
    SessionEvent(session_id="session_123"),
    UsageEvent(usage=Usage(5, 3, 8, 0.0001)),
    DoneEvent(),
]
HEADERS = {"x-ratelimit-limit": "60", "x-ratelimit-remaining": "58", "x-ratelimit-reset": "1700000000"}


def odd_pieces(raw: bytes) -> list[bytes | Exception]:
    """Cut at awkward places: inside the UTF-8 of 世 and 🚀, between fields, every 7 bytes otherwise."""
    cuts = sorted({raw.index("世".encode()) + 1, raw.index("🚀".encode()) + 2, *range(7, len(raw), 7)})
    return [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]


def without_metadata(events: Sequence[object]) -> list[object]:
    return [UsageEvent(usage=e.usage) if isinstance(e, UsageEvent) else e for e in events]


def test_stream_yields_typed_events(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(sse_reply(odd_pieces(EVENTS), HEADERS))

    with client.chat.stream("Hello", model="x-ai/grok-beta", max_tokens=20) as stream:
        assert stream.request_id == "req_stream"
        assert stream.rate_limit == RateLimit(60, 58, 1700000000)
        events = list(stream)

    assert without_metadata(events) == EXPECTED
    usage_event = events[3]
    assert isinstance(usage_event, UsageEvent) and usage_event.metadata is not None
    assert usage_event.metadata.simulated is True
    assert stream.session_id == "session_123"
    assert stream.usage == Usage(5, 3, 8, 0.0001)
    request = gateway.last
    assert request.url.path == "/v1/developer/chat/stream"
    assert request.headers["accept"] == "text/event-stream"
    assert request.headers["idempotency-key"]
    assert gateway.body() == {"message": "Hello", "model": "x-ai/grok-beta", "max_tokens": 20}


def test_text_collects_the_content(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(sse_reply([EVENTS.replace(b"\n", b"\r\n")]))
    stream = client.chat.stream("Hello")
    first = next(stream)
    assert first == ContentEvent(content="Hello", model="grok-beta")
    assert stream.text() == "Hello 世界 🚀"


def test_the_request_is_sent_lazily(client: AIHub, gateway: FakeGateway) -> None:
    stream = client.chat.stream("Hello")
    assert gateway.requests == []
    gateway.queue(sse_reply([EVENTS]))
    assert stream.text() == "Hello 世界 🚀"
    assert len(gateway.requests) == 1


def test_an_error_event_raises_after_the_content_before_it(client: AIHub, gateway: FakeGateway) -> None:
    failure = {
        "type": "error",
        "error": {"type": "api_error", "code": "upstream_error", "message": "upstream died"},
    }
    body = sse({"type": "content", "content": "Hel"}, failure)
    pieces = Chunks([body])
    gateway.queue(httpx.Response(200, headers={"x-request-id": "req_s"}, stream=pieces))

    seen: list[object] = []
    with pytest.raises(APIError) as caught, client.chat.stream("Hello") as stream:
        seen.extend(stream)
    assert seen == [ContentEvent(content="Hel")]
    assert caught.value.code == "upstream_error"
    assert caught.value.message == "upstream died"
    assert caught.value.request_id == "req_s"
    assert caught.value.status_code is None
    assert pieces.closed


def test_a_stream_that_ends_without_done_is_a_connection_error(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(sse_reply([sse({"type": "content", "content": "Hel"})]))
    with pytest.raises(APIConnectionError, match="ended before"):
        client.chat.stream("Hello").text()


def test_an_error_answer_before_the_stream_raises_on_enter(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(error_reply(401, "authentication_error", "invalid_api_key"))
    with pytest.raises(AuthenticationError), client.chat.stream("Hello"):
        pytest.fail("the body must not run")


def test_closing_early_closes_the_response(client: AIHub, gateway: FakeGateway) -> None:
    pieces = Chunks(
        [sse({"type": "content", "content": "a"}), sse({"type": "content", "content": "b"}), EVENTS]
    )
    gateway.queue(httpx.Response(200, stream=pieces))
    with client.chat.stream("Hello") as stream:
        assert next(stream) == ContentEvent(content="a")
    assert pieces.closed
    assert list(stream) == []


def test_events_after_done_are_ignored(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(sse_reply([sse({"type": "done"}, {"type": "content", "content": "late"})]))
    assert list(client.chat.stream("x")) == [DoneEvent()]


def test_unknown_event_types_are_skipped(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(
        sse_reply([sse({"type": "heartbeat"}, {"type": "content", "content": "a"}, {"type": "done"})])
    )
    assert client.chat.stream("x").text() == "a"


def test_malformed_event_data_is_an_api_error(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(sse_reply([b"data: not json\n\n"]))
    with pytest.raises(APIError, match="Malformed"):
        client.chat.stream("x").text()


async def test_async_stream_yields_typed_events(async_client: AsyncAIHub, gateway: FakeGateway) -> None:
    gateway.queue(sse_reply(odd_pieces(EVENTS.replace(b"\n", b"\r\n")), HEADERS))
    async with async_client.chat.stream("Hello", session_id="session_123") as stream:
        events = [event async for event in stream]
        assert stream.rate_limit == RateLimit(60, 58, 1700000000)
    assert without_metadata(events) == EXPECTED
    assert stream.usage == Usage(5, 3, 8, 0.0001)
    assert gateway.body() == {"message": "Hello", "session_id": "session_123"}


async def test_async_text_and_error_event(async_client: AsyncAIHub, gateway: FakeGateway) -> None:
    failure = {
        "type": "error",
        "error": {"type": "rate_limit_error", "code": "tokens_per_minute", "message": "m"},
    }
    gateway.queue(sse_reply([EVENTS]), sse_reply([sse({"type": "content", "content": "a"}, failure)]))
    assert await async_client.chat.stream("Hello").text() == "Hello 世界 🚀"
    with pytest.raises(RateLimitError):
        await async_client.chat.stream("again").text()


async def test_async_stream_closes_early(async_client: AsyncAIHub, gateway: FakeGateway) -> None:
    pieces = Chunks([sse({"type": "content", "content": "a"}), EVENTS])
    gateway.queue(httpx.Response(200, stream=pieces))
    stream = async_client.chat.stream("Hello")
    async for event in stream:
        assert event == ContentEvent(content="a")
        await stream.aclose()
    assert pieces.closed


async def test_async_truncated_stream(async_client: AsyncAIHub, gateway: FakeGateway) -> None:
    gateway.queue(sse_reply([sse({"type": "content", "content": "a"}), httpx.RemoteProtocolError("cut")]))
    with pytest.raises(APIConnectionError):
        await async_client.chat.stream("x").text()
