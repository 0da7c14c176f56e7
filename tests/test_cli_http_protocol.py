"""The HTTP server's header timeout (uvicorn has none): stalled headers cost a connection only
for so long, and a request being answered is never cut."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from aihub_cli.http_protocol import with_header_timeout
from aihub_cli.http_server import start_http
from tests.http.raw import connect

# Short, so a test waits little; a server without the timeout keeps these connections open, and
# the test fails after RawConnection's answer bound instead.
HEADER_TIMEOUT = 0.3


@pytest.fixture
def answer_now() -> asyncio.Event:
    return asyncio.Event()


@pytest.fixture
async def port(answer_now: asyncio.Event) -> AsyncIterator[int]:
    async def quick(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def slow(request: Request) -> Response:
        await answer_now.wait()
        return PlainTextResponse("finally")

    app = Starlette(routes=[Route("/quick", quick), Route("/slow", slow)])
    server = await start_http(app, "127.0.0.1", 0, header_timeout=HEADER_TIMEOUT)
    try:
        yield server.port
    finally:
        await server.stop()


async def test_a_connection_that_sends_nothing_is_closed(port: int) -> None:
    async with connect(port) as connection:
        assert await connection.closed_by_server()


async def test_headers_that_stall_halfway_are_closed(port: int) -> None:
    async with connect(port) as connection:
        await connection.send(b"GET /quick HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        assert await connection.closed_by_server()


async def test_after_an_answer_the_next_requests_headers_get_the_same_bound(port: int) -> None:
    async with connect(port) as connection:
        await connection.send_head("GET", "/quick", {})
        assert (await connection.response()).body == b"ok"
        await connection.send(b"GET /quick HTTP/1.1\r\n")  # keeps the keep-alive timer from closing it
        assert await connection.closed_by_server()


async def test_a_request_being_answered_is_not_cut_however_long_it_takes(
    port: int, answer_now: asyncio.Event
) -> None:
    async with connect(port) as connection:
        await connection.send_head("GET", "/slow", {})
        await asyncio.sleep(HEADER_TIMEOUT * 4)  # the answer takes longer than the header timeout
        answer_now.set()
        assert (await connection.response()).body == b"finally"
        await connection.send_head("GET", "/quick", {})  # and the connection is still usable
        assert (await connection.response()).body == b"ok"


def test_the_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="must be positive"):
        with_header_timeout(0)
