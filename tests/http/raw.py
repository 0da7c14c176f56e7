"""An HTTP/1.1 connection driven by hand, for what no well-behaved client does: declaring a body
and not sending it, stalling halfway through the headers, waiting for `100 Continue`."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

# Long enough for a loaded machine, short enough that a server that never answers fails the test.
ANSWER_WITHIN_SECONDS = 20


@dataclass(frozen=True)
class RawResponse:
    """A response as it came: status, headers (lower-case names) and body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class RawConnection:
    """One connection to `127.0.0.1:port`; bytes go out exactly as given."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> RawConnection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def send_head(self, method: str, path: str, headers: dict[str, str]) -> None:
        """A request line and headers, and nothing of the body."""
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
        await self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    async def response(self) -> RawResponse:
        """The next response (a `100 Continue` too), read in full."""
        async with asyncio.timeout(ANSWER_WITHIN_SECONDS):
            head = await self.reader.readuntil(b"\r\n\r\n")
            status_line, *header_lines = head.decode("latin-1").split("\r\n")[:-2]
            headers = {}
            for line in header_lines:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            body = await self.reader.readexactly(length)
        return RawResponse(int(status_line.split()[1]), headers, body)

    async def closed_by_server(self) -> bool:
        """Whether the server closes the connection (EOF or a reset) before sending more."""
        async with asyncio.timeout(ANSWER_WITHIN_SECONDS):
            try:
                return await self.reader.read(1) == b""
            except ConnectionResetError:
                return True

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


@contextlib.asynccontextmanager
async def connect(port: int) -> AsyncIterator[RawConnection]:
    """A raw connection to the server on `port`, closed at the end."""
    connection = await RawConnection.open(port)
    try:
        yield connection
    finally:
        await connection.close()
