"""uvicorn's httptools protocol with a header timeout, which uvicorn lacks.

uvicorn closes a keep-alive connection that stays silent after a response
(`timeout_keep_alive`), but its timer stops at the first byte that arrives, and a new connection
has no timer at all: a client that sends nothing, or half a request line and then nothing, holds
its connection (and a slot of the process) forever. Here every connection must complete a
request's headers within `header_timeout` seconds of opening, and again of each response;
while a request is being answered no timer runs (the body has its own timeout, in the shim).
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

DEFAULT_HEADER_TIMEOUT = 10.0


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """Closes a connection whose request headers are not complete within `header_timeout`."""

    header_timeout = DEFAULT_HEADER_TIMEOUT
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # for the next request on this connection

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request (a pipelined one, too) is being answered: not idle
        if not self.transport.is_closing():
            self.transport.close()


def with_header_timeout(seconds: float) -> type[HeaderTimeoutProtocol]:
    """The protocol class to hand uvicorn (`Config(http=...)`) for this header timeout."""
    if seconds <= 0:
        raise ValueError(f"the header timeout must be positive, got {seconds}")

    class Protocol(HeaderTimeoutProtocol):
        header_timeout = seconds

    return Protocol
