"""Wire dialects the simulators do not speak, served byte for byte by a loopback HTTPServer."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from aihub_core.errors import UpstreamAuthError, UpstreamError, UpstreamTimeoutError
from aihub_core.messages import Message, ProviderRequest
from aihub_core.providers._http import upstream_session
from aihub_core.providers.base import StreamEnd, TextDelta, TokenUsage
from aihub_core.providers.gemini import GeminiProvider
from aihub_core.providers.openai_compat import OpenAICompatibleProvider
from aihub_core.providers.timeouts import UpstreamTimeouts
from aihub_core.simulators.server import Handler, HTTPRequest, HTTPServer, Responder

KEY = "sk-live-abcdef0123456789"
REQUEST = ProviderRequest("some-model", (Message.of("user", "Hi"),))


def sse(*events: object, end: bytes = b"\n\n") -> list[bytes]:
    return [(e if isinstance(e, bytes) else b"data: " + json.dumps(e).encode()) + end for e in events]


async def run(kind: str, handler: Handler, *, stream: bool) -> tuple[str, StreamEnd]:
    provider_class = OpenAICompatibleProvider if kind == "openai" else GeminiProvider
    server = HTTPServer(handler)
    port = await server.start()
    try:
        async with upstream_session() as client:
            provider = provider_class("up", f"http://127.0.0.1:{port}/v1", KEY, client, UpstreamTimeouts())
            if not stream:
                done = await provider.complete(REQUEST)
                return done.text, StreamEnd(done.finish_reason, done.usage, done.model)
            events = [event async for event in provider.stream(REQUEST)]
    finally:
        await server.stop()
    *deltas, end = events
    assert isinstance(end, StreamEnd)
    return "".join(d.text for d in deltas if isinstance(d, TextDelta)), end


def reply(status: int, body: object = b"", headers: dict[str, str] | None = None) -> Handler:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()

    async def handler(request: HTTPRequest, responder: Responder) -> None:
        await responder.send(status, headers or {}, content)

    return handler


def streamed(chunks: list[bytes], *, complete: bool = True) -> Handler:
    """Each chunk as its own write; without `complete` the connection is cut after the last."""

    async def handler(request: HTTPRequest, responder: Responder) -> None:
        await responder.start(200, {"content-type": "text/event-stream"})
        for chunk in chunks:
            await responder.write(chunk)
        if complete:
            await responder.end()

    return handler


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, UpstreamAuthError),
        (403, UpstreamAuthError),
        (408, UpstreamTimeoutError),
        (504, UpstreamTimeoutError),
        (524, UpstreamTimeoutError),
        (402, UpstreamError),
        (502, UpstreamError),
    ],
)
async def test_statuses_map_to_one_class_each(status: int, error: type[Exception]) -> None:
    with pytest.raises(UpstreamError) as raised:
        await run("openai", reply(status, {"error": {"message": "nope", "code": status}}), stream=False)
    assert type(raised.value) is error
    assert raised.value.details["upstream_status"] == str(status)


async def test_a_key_echoed_by_the_upstream_is_redacted() -> None:
    body = {"error": {"message": f"Incorrect API key provided: {KEY}.", "code": "invalid_api_key"}}
    with pytest.raises(UpstreamAuthError) as raised:
        await run("openai", reply(401, body), stream=True)
    assert KEY not in str(raised.value) and "[redacted]" in raised.value.message


async def test_a_non_json_error_page_is_quoted_briefly() -> None:
    with pytest.raises(UpstreamError) as raised:
        await run("openai", reply(502, b"<html>" + b"x" * 5000 + b"</html>"), stream=False)
    assert raised.value.message.startswith("up returned 502: <html>xxx")
    assert len(raised.value.message) < 300


async def test_legacy_vllm_error_bodies_and_retry_after_ms() -> None:
    body = {"object": "error", "message": "slow down", "type": "BadRequestError", "code": 429}
    with pytest.raises(UpstreamError) as raised:
        await run("openai", reply(429, body, {"retry-after-ms": "250", "retry-after": "1"}), stream=False)
    assert (raised.value.code, raised.value.details["retry_after"]) == ("upstream_rate_limited", "0.25")
    assert raised.value.message == "up returned 429: slow down"


async def test_retry_after_as_an_http_date() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    with pytest.raises(UpstreamError) as raised:
        await run("openai", reply(429, {"error": {"message": "later"}}, {"retry-after": when}), stream=False)
    assert 25 <= float(raised.value.details["retry_after"]) <= 30


async def test_a_vllm_stream_error_followed_by_done_is_an_error() -> None:
    chunks = sse(
        {"choices": [{"index": 0, "delta": {"content": "Hel"}}]},
        {"error": {"message": "boom", "code": 500}},
        b"data: [DONE]",
    )
    with pytest.raises(UpstreamError, match="boom"):
        await run("openai", streamed(chunks), stream=True)


async def test_usage_on_the_finish_chunk_and_eof_without_done_are_accepted() -> None:
    # Older llama.cpp: usage on the finish chunk itself; some servers just close after it.
    chunks = sse(
        {"choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}}]},
        {
            "choices": [{"index": 0, "delta": {}, "finish_reason": "length"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1},
        },
    )
    text, end = await run("openai", streamed(chunks), stream=True)
    assert (text, end.finish_reason, end.usage.prompt_tokens, end.usage.source) == (
        "Hi",
        "length",
        3,
        "provider",
    )


async def test_a_200_whose_body_is_an_error_is_an_error() -> None:
    body = {"error": {"code": 429, "message": "rate limited by provider"}}
    with pytest.raises(UpstreamError) as raised:
        await run("openai", reply(200, body), stream=False)
    assert raised.value.code == "upstream_rate_limited"
    assert "mid-response" in raised.value.message


async def test_unknown_finish_reasons_count_as_stop_and_a_null_content_is_empty() -> None:
    body = {"choices": [{"message": {"role": "assistant", "content": None}, "finish_reason": "eos"}]}
    text, end = await run("openai", reply(200, body), stream=False)
    assert (text, end.finish_reason, end.usage.source) == ("", "stop", "estimated")


async def test_gemini_error_bodies_wrapped_in_an_array() -> None:
    body = [{"error": {"code": 403, "message": "Permission denied", "status": "PERMISSION_DENIED"}}]
    with pytest.raises(UpstreamAuthError):
        await run("gemini", reply(403, body), stream=True)


async def test_gemini_raw_multiline_error_without_data_prefix_is_read_as_the_error() -> None:
    chunk = {"candidates": [{"content": {"parts": [{"text": "Once"}]}}]}
    raw = b'{\n  "error": {\n    "code": 503,\n    "status": "UNAVAILABLE"\n  }\n}\r\n\r\n'
    with pytest.raises(UpstreamError, match="mid-response: UNAVAILABLE") as raised:
        await run("gemini", streamed([*sse(chunk, end=b"\r\n\r\n"), raw]), stream=True)
    assert raised.value.details["upstream_status"] == "503"
    assert raised.value.details["retryable"] == "false"  # "Once" has gone out already


async def test_gemini_usage_only_at_the_end_and_vertex_chunks_without_counts() -> None:
    chunks = sse(
        {
            "candidates": [{"content": {"parts": [{"text": "A"}]}}],
            "usageMetadata": {"trafficType": "ON_DEMAND"},
        },
        {
            "candidates": [{"content": {"parts": [{"text": "B"}]}, "finishReason": "SAFETY"}],
            "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 2},
        },
        end=b"\r\n\r\n",
    )
    text, end = await run("gemini", streamed(chunks), stream=True)
    assert (text, end.finish_reason, end.usage.prompt_tokens, end.usage.completion_tokens) == (
        "AB",
        "content_filter",
        5,
        2,
    )


async def test_gemini_max_tokens_with_no_parts_is_length_with_empty_text() -> None:
    body = {
        "candidates": [{"content": {"role": "model"}, "finishReason": "MAX_TOKENS"}],
        "usageMetadata": {"promptTokenCount": 4, "thoughtsTokenCount": 10},
    }
    expected = StreamEnd("length", TokenUsage(4, 10), "some-model")
    assert await run("gemini", reply(200, body), stream=False) == ("", expected)


async def test_a_gzip_encoded_body_is_decoded() -> None:
    body = {"choices": [{"message": {"content": "zipped"}, "finish_reason": "stop"}]}
    handler = reply(200, gzip.compress(json.dumps(body).encode()), {"content-encoding": "gzip"})
    assert (await run("openai", handler, stream=False))[0] == "zipped"


async def test_done_without_a_finish_reason_is_a_complete_answer() -> None:
    chunks = sse({"choices": [{"index": 0, "delta": {"content": "Hi"}}]}, b"data: [DONE]")
    assert (await run("openai", streamed(chunks), stream=True))[1].finish_reason == "stop"


async def test_a_connection_dropped_mid_body_is_an_upstream_error() -> None:
    handler = streamed([b'data: {"choices": [{"index": 0, "delta": {"content": "Hi"}}]}\n\n'], complete=False)
    with pytest.raises(UpstreamError, match="up connection failed: ") as raised:
        await run("openai", handler, stream=True)
    assert raised.value.details["retryable"] == "false"  # "Hi" came first


NESTED_TOO_DEEP = b'{"error":' * 100_000 + b"1" + b"}" * 100_000


@pytest.mark.parametrize("kind", ["openai", "gemini"])
@pytest.mark.parametrize(
    ("handler", "stream"),
    [
        (reply(200, NESTED_TOO_DEEP), False),  # an answer
        (reply(500, NESTED_TOO_DEEP), False),  # an error body
        (streamed([b"data: " + NESTED_TOO_DEEP + b"\n\n"]), True),  # a stream event
    ],
    ids=["answer", "error-body", "stream-event"],
)
async def test_json_nested_too_deep_is_an_upstream_error_not_a_crash(
    kind: str, handler: Handler, stream: bool
) -> None:
    # The decoder's RecursionError would escape as our 500 internal_error.
    with pytest.raises(UpstreamError):
        await run(kind, handler, stream=stream)
