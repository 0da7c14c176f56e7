"""A gateway played from canned answers, at the network edge (`httpx.MockTransport`)."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from typing import Any

import httpx

BASE_URL = "http://gateway.test"

Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class Chunks(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that arrives in exactly these pieces; an exception piece is raised there."""

    def __init__(self, pieces: Iterable[bytes | Exception]) -> None:
        self.pieces = list(pieces)
        self.sent = 0
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        for piece in self.pieces:
            if isinstance(piece, Exception):
                raise piece
            self.sent += 1
            yield piece

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self:
            yield piece

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


def reply(status: int = 200, body: Any = None, headers: Mapping[str, str] | None = None) -> httpx.Response:
    """A JSON answer."""
    return httpx.Response(
        status, json=body if body is not None else {}, headers={"x-request-id": "req_1", **(headers or {})}
    )


def error_reply(
    status: int, error_type: str, code: str, message: str = "nope", headers: Mapping[str, str] | None = None
) -> httpx.Response:
    """An answer in the spec's error shape."""
    body = {
        "error": {"type": error_type, "code": code, "message": message, "details": {"parameter": "x"}},
        "request_id": "req_err",
    }
    return httpx.Response(status, json=body, headers={"x-request-id": "req_err", **(headers or {})})


def sse(*events: Mapping[str, Any]) -> bytes:
    """The SSE encoding of these events, as the gateway writes it."""
    return b"".join(f"data: {json.dumps(e, ensure_ascii=False)}\n\n".encode() for e in events)


def sse_reply(
    pieces: Iterable[bytes | Exception], headers: Mapping[str, str] | None = None
) -> httpx.Response:
    """A streamed SSE answer arriving in these pieces."""
    head = {"content-type": "text/event-stream", "x-request-id": "req_stream", **(headers or {})}
    return httpx.Response(200, headers=head, stream=Chunks(pieces))


class FakeGateway:
    """Answers requests in order from a queue and records them (and the client's retry sleeps)."""

    def __init__(self) -> None:
        self.answers: deque[Answer] = deque()
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def queue(self, *answers: Answer) -> FakeGateway:
        self.answers.extend(answers)
        return self

    def handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if not self.answers:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        answer = self.answers.popleft()
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return answer(request)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)
