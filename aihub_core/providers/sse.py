"""A byte-level Server-Sent Events decoder (WHATWG event-stream), pure and incremental.

Lines are split at CR, LF and CRLF on bytes, and each line is decoded as UTF-8 only once it is
whole. `str.splitlines()` (and httpx's `aiter_lines`) would also split at U+2028/U+2029, which
JSON allows raw inside strings, and per-read decoding breaks characters split across reads.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import AsyncIterator
from typing import NamedTuple

_LINE_END = re.compile(rb"\r\n|\r|\n")
_BOM = b"\xef\xbb\xbf"


class SSEEvent(NamedTuple):
    """One dispatched event; `data` has its `data:` lines joined with newlines.

    A NamedTuple, not a frozen dataclass: one is made per streamed event, and a frozen
    dataclass's `__init__` sets each field through `object.__setattr__` (4x the time)."""

    data: str
    event: str = "message"
    id: str | None = None
    raw: bool = False  # not SSE at all: one line of bare JSON (only with `raw_lines`)


_FIELDS = frozenset({"data", "event", "id", "retry"})


class SSEDecoder:
    """Turns byte chunks, split anywhere, into events: `feed` each read, then `close` at EOF.

    With `raw_lines`, a line that is no SSE field comes out at once as a `raw` event instead of
    being ignored: Gemini may send a pretty-printed `{"error": ...}` or a JSON array without `data:`.
    """

    def __init__(self, *, raw_lines: bool = False) -> None:
        self._raw_lines = raw_lines
        self._pending: list[bytes] = []  # the current line so far: never contains a line end
        self._skip_lf = False  # the last read ended in CR; its LF may start the next read
        self._started = False
        self._data: list[str] = []
        self._event = ""
        self._last_id: str | None = None

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Consume one read and return the events it completed."""
        if self._skip_lf and chunk:
            self._skip_lf = False
            chunk = chunk.removeprefix(b"\n")
        if not self._started:
            chunk = b"".join([*self._pending, chunk])
            self._pending = []
            if len(chunk) < len(_BOM) and _BOM.startswith(chunk):
                self._pending = [chunk] if chunk else []
                return []
            self._started = True
            chunk = chunk.removeprefix(_BOM)
        events: list[SSEEvent] = []
        # Only the new bytes are scanned: a long line split over many reads costs linear time.
        if b"\r" not in chunk:
            # Lines end in LF alone (as most servers send them): bytes.split, not the regex,
            # which tries its three alternatives at every byte.
            *lines, rest = chunk.split(b"\n")
            for line in lines:
                if self._pending:
                    line = b"".join([*self._pending, line])
                    self._pending = []
                self._line(line, events)
            if rest:
                self._pending.append(rest)
            return events
        start = 0
        for match in _LINE_END.finditer(chunk):
            self._line(b"".join([*self._pending, chunk[start : match.start()]]), events)
            self._pending = []
            start = match.end()
        self._skip_lf = chunk.endswith(b"\r")
        if start < len(chunk):
            self._pending.append(chunk[start:])
        return events

    def close(self) -> list[SSEEvent]:
        """End of stream: complete a last line and dispatch the event still being built."""
        events: list[SSEEvent] = []
        if self._pending:
            self._line(b"".join(self._pending), events)
            self._pending = []
        self._line(b"", events)
        return events

    def _line(self, raw: bytes, events: list[SSEEvent]) -> None:
        if not raw:
            self._dispatch(events)
            return
        line = raw.decode("utf-8", errors="replace")
        if line.startswith(":"):
            return
        name, colon, value = line.partition(":")  # `retry:` and unknown fields are ignored
        if self._raw_lines and name not in _FIELDS:
            events.append(SSEEvent(line, raw=True))
            return
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._last_id = value

    def _dispatch(self, events: list[SSEEvent]) -> None:
        if self._data:
            events.append(SSEEvent("\n".join(self._data), self._event or "message", self._last_id))
        self._data = []
        self._event = ""


class SSEStream:
    """The events of an async byte stream, decoded as they complete and flushed at its end."""

    def __init__(self, chunks: AsyncIterator[bytes], *, raw_lines: bool = False) -> None:
        self._chunks = chunks
        self._decoder = SSEDecoder(raw_lines=raw_lines)
        self._ready: deque[SSEEvent] = deque()
        self._ended = False

    def __aiter__(self) -> SSEStream:
        return self

    async def __anext__(self) -> SSEEvent:
        while not self._ready:
            if self._ended:
                raise StopAsyncIteration
            try:
                chunk = await anext(self._chunks)
            except StopAsyncIteration:
                self._ended = True
                self._ready.extend(self._decoder.close())
            else:
                self._ready.extend(self._decoder.feed(chunk))
        return self._ready.popleft()
