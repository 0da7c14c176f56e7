"""Request bodies, read within three bounds: the route's largest body, the bytes of bodies the
whole shim holds at once, and how long the client may leave its body stalled.

A body is refused before any of it is read when its Content-Length already says it is too
large (413) or that it would not fit in what the shim may still hold (503); a chunked body is
counted as it arrives. Nothing refused is buffered: what the client still sends is read and
dropped by the server, and the connection is closed when no next request follows in time. A
body from which nothing arrives for `read_timeout` seconds is a 408, and its connection closed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from starlette.requests import ClientDisconnect, Request

from aihub_http.errors import ApiError, invalid_request


@dataclass
class Held:
    """The bytes one request's body holds in the shim's budget, given back when it is done."""

    taken: int = 0


class Bodies:
    """Reads request bodies for the whole shim (one event loop, so the count needs no lock)."""

    def __init__(self, max_in_flight: int, read_timeout: float) -> None:
        if max_in_flight < 1 or read_timeout <= 0:
            raise ValueError("max_in_flight and read_timeout must be positive")
        self.capacity = max_in_flight
        self.held = 0
        self._read_timeout = read_timeout

    def release(self, held: Held) -> None:
        """Give back a request's share once its body (and what was built from it) is done with:
        when its endpoint returns."""
        self.held -= held.taken
        held.taken = 0

    async def read(self, request: Request[Any], route_limit: int, held: Held) -> bytearray:
        """The whole body, or the 413, 503 or 408 that refuses it. A declared length is reserved before
        the first byte is read, so a body let in is never refused halfway for want of room;
        a chunked body takes its room as it arrives."""
        limit = min(route_limit, self.capacity)
        declared = _content_length(request)
        if declared is not None:
            if declared > limit:
                raise _too_large(limit)
            self._take(declared, held)
        body = bytearray()
        more = True
        while more:
            try:
                async with asyncio.timeout(self._read_timeout):
                    message = await request.receive()
            except TimeoutError:
                raise _stalled(self._read_timeout) from None
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            chunk: bytes = message.get("body", b"")
            more = bool(message.get("more_body", False))
            size = len(body) + len(chunk)
            if size > limit:
                raise _too_large(limit)
            if size > held.taken:
                self._take(size - held.taken, held)
            body += chunk
        return body

    def _take(self, size: int, held: Held) -> None:
        if size > self.capacity - self.held:
            raise _busy(self.capacity)
        self.held += size
        held.taken += size


def _content_length(request: Request[Any]) -> int | None:
    declared = request.headers.get("content-length", "")
    return int(declared) if declared.isascii() and declared.isdigit() else None


def _too_large(limit: int) -> ApiError:
    return invalid_request(
        "request_too_large", f"The request body is larger than {limit} bytes", status_code=413
    )


def _busy(capacity: int) -> ApiError:
    return ApiError(
        503,
        "api_error",
        "server_busy",
        f"The gateway is receiving as many request bytes as it may hold at once ({capacity}); retry shortly",
        headers={"Retry-After": "1"},
    )


def _stalled(seconds: float) -> ApiError:
    # Connection: close, for the server to drop the connection once the answer is out: the
    # client stopped sending, and nothing it sends later could be read as a next request.
    return ApiError(
        408,
        "invalid_request_error",
        "request_timeout",
        f"The request body stalled: nothing of it arrived for {seconds:g} seconds",
        headers={"Connection": "close"},
    )
