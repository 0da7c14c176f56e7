"""`chat.stream(...)`: the SSE answer as an iterator of typed events.

The request is sent lazily, on `with`/`async with` or the first iteration, and retried (under the
client's policy) only until the gateway has answered 2xx; once the stream has started nothing is
retried. An error event raises the mapped AIHubError after the events before it; a stream that
ends without `done` raises APIConnectionError. Either way, and on `close()`, the HTTP response is
closed.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Iterator
from types import TracebackType
from typing import Any

import httpx

from . import _parse
from ._base import connection_error
from ._exceptions import APIConnectionError, APIError, make_error
from ._sse import ServerSentEvent, SSEDecoder
from .types import (
    ChatMetadata,
    ContentEvent,
    DoneEvent,
    RateLimit,
    SessionEvent,
    StreamEvent,
    Usage,
    UsageEvent,
)


def parse_event(sse: ServerSentEvent, request_id: str | None) -> StreamEvent | None:
    """The typed event of one SSE message; None for kinds this SDK does not know (skipped)."""
    try:
        payload: Any = json.loads(sse.data)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise APIError(
            f"Malformed stream event: {sse.data[:200]!r}", error_type="api_error", request_id=request_id
        )
    kind = payload.get("type")
    if kind == "content":
        content = payload.get("content")
        model = payload.get("model")
        return ContentEvent(
            content=content if isinstance(content, str) else "",
            model=model if isinstance(model, str) else None,
        )
    if kind == "session":
        session_id = payload.get("session_id")
        return SessionEvent(session_id=session_id if isinstance(session_id, str) else "")
    if kind == "usage":
        metadata = payload.get("metadata")
        return UsageEvent(
            usage=_parse.usage(payload.get("usage")),
            metadata=_parse.chat_metadata(metadata) if isinstance(metadata, dict) else None,
        )
    if kind == "done":
        return DoneEvent()
    if kind == "error":
        raise make_error(None, payload, request_id=request_id, fallback_message="The stream failed")
    return None


class _StreamBase:
    """State both stream classes keep: the decoder, what was seen, the answer's headers."""

    def __init__(self) -> None:
        self._decoder = SSEDecoder()
        self._done = False
        self._closed = False
        self._parts: list[str] = []
        self._meta = _parse.ResponseMeta()
        self.session_id: str | None = None
        self.usage: Usage | None = None
        self.metadata: ChatMetadata | None = None

    @property
    def request_id(self) -> str | None:
        """The X-Request-ID of the answer, once the stream has started."""
        return self._meta.request_id

    @property
    def rate_limit(self) -> RateLimit | None:
        """The X-RateLimit-* headers of the answer, once the stream has started."""
        return self._meta.rate_limit

    def _events(self, chunk: bytes | None) -> Iterator[StreamEvent]:
        """The events `chunk` completes; `None` marks the end of the body."""
        for sse in self._decoder.feed(chunk) if chunk is not None else self._decoder.flush():
            if self._done:
                return
            event = parse_event(sse, self.request_id)
            if event is None:
                continue
            if isinstance(event, ContentEvent):
                self._parts.append(event.content)
            elif isinstance(event, SessionEvent):
                self.session_id = event.session_id
            elif isinstance(event, UsageEvent):
                self.usage, self.metadata = event.usage, event.metadata
            else:
                self._done = True
            yield event

    def _truncated(self) -> APIConnectionError:
        return APIConnectionError("The stream ended before it was done", request_id=self.request_id)


class Stream(_StreamBase):
    """A synchronous chat stream; iterate it, or call `text()`; use it as a context manager."""

    def __init__(self, open_response: Callable[[], httpx.Response]) -> None:
        super().__init__()
        self._open = open_response
        self._response: httpx.Response | None = None
        self._iterator: Generator[StreamEvent, None, None] | None = None

    def __enter__(self) -> Stream:
        self._start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __iter__(self) -> Stream:
        return self

    def __next__(self) -> StreamEvent:
        if self._iterator is None:
            self._iterator = self._iterate()
        return next(self._iterator)

    def text(self) -> str:
        """Read the rest of the stream; return all of the answer's content."""
        for _ in self:
            pass
        return "".join(self._parts)

    def close(self) -> None:
        """Close the HTTP response; further iteration ends."""
        self._closed = True
        if self._iterator is not None:
            self._iterator.close()
        if self._response is not None:
            self._response.close()

    def _start(self) -> httpx.Response:
        if self._response is None:
            if self._closed:
                raise RuntimeError("The stream was closed before it started")
            self._response = self._open()
            self._meta = _parse.ResponseMeta.from_headers(self._response.headers)
        return self._response

    def _iterate(self) -> Generator[StreamEvent, None, None]:
        try:
            response = self._start()
            if self._closed:
                return
            try:
                for chunk in response.iter_bytes():
                    yield from self._events(chunk)
                    if self._done:
                        return
                yield from self._events(None)
                if self._done:
                    return
            except httpx.RequestError as exc:
                raise connection_error(exc) from exc
            raise self._truncated()
        finally:
            self._closed = True
            if self._response is not None:
                self._response.close()


class AsyncStream(_StreamBase):
    """An asynchronous chat stream; `async for` it, or await `text()`; use it with `async with`."""

    def __init__(self, open_response: Callable[[], Awaitable[httpx.Response]]) -> None:
        super().__init__()
        self._open = open_response
        self._response: httpx.Response | None = None
        self._iterator: AsyncGenerator[StreamEvent, None] | None = None

    async def __aenter__(self) -> AsyncStream:
        await self._start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncStream:
        return self

    async def __anext__(self) -> StreamEvent:
        if self._iterator is None:
            self._iterator = self._iterate()
        return await self._iterator.__anext__()

    async def text(self) -> str:
        """Read the rest of the stream; return all of the answer's content."""
        async for _ in self:
            pass
        return "".join(self._parts)

    async def aclose(self) -> None:
        """Close the HTTP response; further iteration ends."""
        self._closed = True
        if self._iterator is not None:
            await self._iterator.aclose()
        if self._response is not None:
            await self._response.aclose()

    async def _start(self) -> httpx.Response:
        if self._response is None:
            if self._closed:
                raise RuntimeError("The stream was closed before it started")
            self._response = await self._open()
            self._meta = _parse.ResponseMeta.from_headers(self._response.headers)
        return self._response

    async def _iterate(self) -> AsyncGenerator[StreamEvent, None]:
        try:
            response = await self._start()
            if self._closed:
                return
            try:
                async for chunk in response.aiter_bytes():
                    for event in self._events(chunk):
                        yield event
                    if self._done:
                        return
                for event in self._events(None):
                    yield event
                if self._done:
                    return
            except httpx.RequestError as exc:
                raise connection_error(exc) from exc
            raise self._truncated()
        finally:
            self._closed = True
            if self._response is not None:
                await self._response.aclose()
