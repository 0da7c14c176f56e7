"""The incremental SSE decoder, fed the same bytes in every possible split."""

from __future__ import annotations

import json

import pytest

from ai_hub._sse import ServerSentEvent, SSEDecoder

STREAM = (
    'data: {"type": "content", "content": "你好, wörld 🚀", "model": "grok-beta"}\r\n\r\n'
    ": keep-alive comment\n\n"
    'data: {"type": "session", "session_id": "s1"}\r\r'
    "event: custom\nid: 7\nretry: 1500\ndata: first line\ndata:second line\n\n"
    'data: {"type": "done"}\n\n'
).encode()

EXPECTED = [
    ServerSentEvent(data='{"type": "content", "content": "你好, wörld 🚀", "model": "grok-beta"}'),
    ServerSentEvent(data='{"type": "session", "session_id": "s1"}'),
    ServerSentEvent(data="first line\nsecond line", event="custom", id="7", retry=1500),
    ServerSentEvent(data='{"type": "done"}', id="7", retry=1500),
]


def decode(*chunks: bytes) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    return [event for chunk in chunks for event in decoder.feed(chunk)] + decoder.flush()


def test_whole_stream_in_one_chunk() -> None:
    assert decode(STREAM) == EXPECTED


@pytest.mark.parametrize("cut", range(1, len(STREAM)))
def test_every_two_way_split(cut: int) -> None:
    assert decode(STREAM[:cut], STREAM[cut:]) == EXPECTED


def test_one_byte_at_a_time() -> None:
    assert decode(*(STREAM[i : i + 1] for i in range(len(STREAM)))) == EXPECTED


def test_multibyte_characters_split_across_chunks() -> None:
    text = "é漢🚀"
    raw = f"data: {text}\n\n".encode()
    for cut in range(6, len(raw) - 2):
        [event] = decode(raw[:cut], raw[cut:])
        assert event.data == text


def test_crlf_split_between_cr_and_lf_is_one_line_end() -> None:
    assert decode(b"data: a\r", b"\n\r", b"\n") == [ServerSentEvent(data="a")]


def test_lone_cr_line_ends() -> None:
    assert decode(b"data: a\r\rdata: b\r\r") == [ServerSentEvent(data="a"), ServerSentEvent(data="b")]
    assert SSEDecoder().feed(b"data: a\r\rdata: b\r\r") == [ServerSentEvent(data="a")]


def test_a_trailing_cr_waits_for_the_next_chunk() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r\r") == []
    assert decoder.feed(b"data: b\n\n") == [ServerSentEvent(data="a"), ServerSentEvent(data="b")]


def test_byte_order_mark_is_skipped_once() -> None:
    assert decode(b"\xef\xbb", b"\xbfdata: x\n\n") == [ServerSentEvent(data="x")]


def test_field_without_colon_and_empty_data() -> None:
    assert decode(b"data\n\n") == [ServerSentEvent(data="")]


def test_only_one_leading_space_is_removed() -> None:
    assert decode(b"data:  two spaces\n\n") == [ServerSentEvent(data=" two spaces")]


def test_blank_lines_without_data_dispatch_nothing() -> None:
    assert decode(b"\n\n\nevent: ping\n\n") == []


def test_an_unfinished_event_is_not_dispatched() -> None:
    assert decode(b'data: {"type": "done"}\n') == []
    assert decode(b'data: {"type": "done"}') == []


def test_large_payload_across_many_chunks() -> None:
    payload = json.dumps({"type": "content", "content": "x" * 100_000})
    raw = f"data: {payload}\n\n".encode()
    chunks = [raw[i : i + 4096] for i in range(0, len(raw), 4096)]
    [event] = decode(*chunks)
    assert event.data == payload
