"""A small HTTP/1.1 server on h11 and asyncio streams, with byte-level control of the writes.

Each `Responder.write` goes out as its own chunk of the chunked body, and h11 on the client
side never merges chunks, so a simulator can make the client's reads split exactly where it
wants (inside a UTF-8 character, between CR and LF). While a handler runs, the connection is
watched: the moment the client hangs up, the handler is cancelled and `client_gone` is set.
A handler that returns without `end` cuts the connection: the client sees a truncated body.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import h11

_READ_SIZE = 65536
_MAX_BODY = 64 * 1024 * 1024  # 20 MB of images as base64, with room to spare
_log = logging.getLogger(__name__)


@dataclass
class HTTPRequest:
    """One received request; header names are lower-case."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    client_gone: asyncio.Event = field(default_factory=asyncio.Event)


class Responder:
    """Writes one response: whole with `send`, or streamed with `start`, `write`… `end`."""

    def __init__(self, conn: h11.Connection, writer: asyncio.StreamWriter) -> None:
        self._conn = conn
        self._writer = writer
        self.started = False
        self.written = 0  # body bytes sent so far, for cuts at absolute offsets

    async def send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        """A complete response with a Content-Length."""
        await self.start(status, {**headers, "content-length": str(len(body))})
        if body:
            await self.write(body)
        await self.end()

    async def start(self, status: int, headers: dict[str, str]) -> None:
        """The status line and headers; without a Content-Length the body is chunked."""
        self.started = True
        items = [("server", "aihub-simulator"), *headers.items()]
        await self._out(h11.Response(status_code=status, headers=items))

    async def write(self, data: bytes) -> None:
        """One body chunk, flushed before returning."""
        self.written += len(data)
        await self._out(h11.Data(data=data))

    async def end(self) -> None:
        """The end of the body; the connection can serve the next request."""
        await self._out(h11.EndOfMessage())

    async def _out(self, event: h11.Event) -> None:
        data = self._conn.send(event)
        if data:
            self._writer.write(data)
            await self._writer.drain()


Handler = Callable[[HTTPRequest, Responder], Coroutine[Any, Any, None]]


class HTTPServer:
    """Serves `handler` on 127.0.0.1 with keep-alive; `start` returns the ephemeral port."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Bind and listen; the port is the kernel's choice unless given."""
        self._server = await asyncio.start_server(self._serve, host, port)
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop listening and cut every open connection, running handlers included."""
        if self._server is None:
            return
        self._server.close()
        connections = list(self._connections)
        for task in connections:
            task.cancel()
        await asyncio.gather(*connections, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # A task of our own: Python 3.11's streams log the cancellation of their callback task.
        task = asyncio.create_task(self._connection(reader, writer))
        self._connections.add(task)
        task.add_done_callback(self._connections.discard)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=_READ_SIZE)
        try:
            while (request := await _read_request(conn, reader)) is not None:
                await self._respond(request, Responder(conn, writer), conn, reader)
                if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    break
                conn.start_next_cycle()
        except (ConnectionError, h11.ProtocolError, ValueError):
            pass  # a client that breaks the protocol or hangs up simply loses its connection
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _respond(
        self, request: HTTPRequest, responder: Responder, conn: h11.Connection, reader: asyncio.StreamReader
    ) -> None:
        handling = asyncio.create_task(self._handler(request, responder))
        watching = asyncio.create_task(_watch(conn, reader))
        try:
            await asyncio.wait((handling, watching), return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone, finished = watching.done(), handling.done()
            for task in (handling, watching):
                task.cancel()
            await asyncio.gather(handling, watching, return_exceptions=True)
        if gone:
            if not finished:
                request.client_gone.set()
            raise ConnectionResetError("client went away")
        if not handling.cancelled() and (exc := handling.exception()) is not None:
            await _fail(responder, exc)


async def _watch(conn: h11.Connection, reader: asyncio.StreamReader) -> None:
    """Return when the client closes its side; bytes it pipelines meanwhile are kept for later."""
    while data := await reader.read(_READ_SIZE):
        conn.receive_data(data)


async def _read_request(conn: h11.Connection, reader: asyncio.StreamReader) -> HTTPRequest | None:
    """The next whole request on the connection, or None once the client has closed it."""
    head: h11.Request | None = None
    body = bytearray()
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await reader.read(_READ_SIZE))
        elif isinstance(event, h11.Request):
            head = event
        elif isinstance(event, h11.Data):
            body += event.data
            if len(body) > _MAX_BODY:
                raise ValueError("request body too large")
        elif isinstance(event, h11.EndOfMessage) and head is not None:
            target = urlsplit(head.target.decode("latin-1"))
            return HTTPRequest(
                method=head.method.decode("ascii"),
                path=target.path,
                query=dict(parse_qsl(target.query)),
                headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in head.headers},
                body=bytes(body),
            )
        else:
            return None  # ConnectionClosed (or PAUSED, which a fresh cycle never gives)


async def _fail(responder: Responder, exc: BaseException | None) -> None:
    """A simulator bug: answer 500 if nothing was sent yet, otherwise cut the connection."""
    _log.error("simulator handler failed", exc_info=exc)
    if responder.started:
        raise ConnectionResetError("handler failed mid-response")
    await responder.send(500, {"content-type": "application/json"}, b'{"error":"simulator failure"}')
