from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from aihub_core.providers.sse import SSEDecoder, SSEEvent, SSEStream

# An OpenRouter-style stream: LF framing, keep-alive comments, raw UTF-8 with U+2028 inside JSON.
OPENAI_STREAM = (
    b": OPENROUTER PROCESSING\n\n"
    b'data: {"choices":[{"delta":{"role":"assistant","content":""}}]}\n\n'
    + 'data: {"choices":[{"delta":{"content":"你好 🙂 line\u2028sep"}}]}\n\n'.encode()
    + b": OPENROUTER PROCESSING\n\n"
    b'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5}}\n\n'
    b"data: [DONE]\n\n"
)
# A Gemini-style stream: CRLF framing, no sentinel, multibyte characters.
GEMINI_STREAM = (
    'data: {"candidates": [{"content": {"parts": [{"text": "こんにちは"}]}}]}\r\n\r\n'.encode()
    + 'data: {"candidates": [{"content": {"parts": [{"text": "🚀\u2028é"}]},'.encode()
    + b'"finishReason": "STOP"}]}\r\n\r\n'
)


def decode_all(*chunks: bytes) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events = [event for chunk in chunks for event in decoder.feed(chunk)]
    return events + decoder.close()


@pytest.mark.parametrize("stream", [OPENAI_STREAM, GEMINI_STREAM], ids=["lf", "crlf"])
def test_every_split_point_gives_the_same_events(stream: bytes) -> None:
    whole = decode_all(stream)
    for offset in range(len(stream) + 1):
        assert decode_all(stream[:offset], stream[offset:]) == whole, offset


@pytest.mark.parametrize("stream", [OPENAI_STREAM, GEMINI_STREAM], ids=["lf", "crlf"])
def test_byte_by_byte_feeding_gives_the_same_events(stream: bytes) -> None:
    assert decode_all(*(stream[i : i + 1] for i in range(len(stream)))) == decode_all(stream)


def test_recorded_streams_decode_to_their_json() -> None:
    openai = decode_all(OPENAI_STREAM)
    assert [e.data for e in openai][-1] == "[DONE]"
    assert json.loads(openai[1].data)["choices"][0]["delta"]["content"] == "你好 🙂 line\u2028sep"
    assert len(openai) == 4  # the comments dispatch nothing
    gemini = decode_all(GEMINI_STREAM)
    assert [json.loads(e.data)["candidates"][0]["content"]["parts"][0]["text"] for e in gemini] == [
        "こんにちは",
        "🚀\u2028é",
    ]


def test_line_endings_cr_lf_and_crlf_are_all_line_ends() -> None:
    assert decode_all(b"data: a\r\rdata: b\n\ndata: c\r\n\r\n") == [
        SSEEvent("a"),
        SSEEvent("b"),
        SSEEvent("c"),
    ]


def test_cr_at_the_end_of_a_read_then_lf_is_one_line_end() -> None:
    # If the LF were taken as a second line end, it would dispatch an event too early.
    assert decode_all(b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n") == [SSEEvent("a\nb")]


def test_multiple_data_lines_join_with_newlines_and_one_space_is_stripped() -> None:
    assert decode_all(b"data:x\ndata:  y\ndata\n\n") == [SSEEvent("x\n y\n")]


def test_event_and_id_fields_and_comments() -> None:
    events = decode_all(b": hello\nevent: delta\nid: 7\ndata: {}\nretry: 10\nbogus: 1\n\ndata: next\n\n")
    assert events == [SSEEvent("{}", "delta", "7"), SSEEvent("next", "message", "7")]


def test_blank_lines_without_data_dispatch_nothing() -> None:
    assert decode_all(b"\n\n\r\n: comment\n\n") == []


def test_the_last_event_is_flushed_at_eof_without_a_blank_line() -> None:
    assert decode_all(b"data: one\n\ndata: two") == [SSEEvent("one"), SSEEvent("two")]
    assert decode_all(b"data: two\r") == [SSEEvent("two")]


def test_a_leading_bom_is_ignored_even_when_split() -> None:
    assert decode_all(b"\xef", b"\xbb", b"\xbfdata: x\n\n") == [SSEEvent("x")]


def test_invalid_utf8_is_replaced_not_raised() -> None:
    assert decode_all(b"data: \xff\n\n") == [SSEEvent("\ufffd")]


async def test_sse_stream_reads_an_async_byte_iterator_and_flushes_at_its_end() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for piece in (b"data: a\n", b"\ndata: ", "é".encode()[:1], "é".encode()[1:]):
            yield piece

    assert [event async for event in SSEStream(chunks())] == [SSEEvent("a"), SSEEvent("é")]


def test_a_long_line_over_many_reads_is_assembled_once() -> None:
    line = b"data: " + b"x" * 2_000_000 + b"\n\n"
    (event,) = decode_all(*(line[i : i + 1024] for i in range(0, len(line), 1024)))
    assert len(event.data) == 2_000_000
