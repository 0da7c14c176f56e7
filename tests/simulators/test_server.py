from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from aihub_core.simulators.server import HTTPRequest, HTTPServer, Responder


async def handler(request: HTTPRequest, responder: Responder) -> None:
    if request.path == "/pieces":
        await responder.start(200, {"content-type": "text/plain"})
        for piece in (b"a", b"\xc3", b"\xa9\r", b"\n"):
            await responder.write(piece)
        await responder.end()
    elif request.path == "/hang":
        await responder.start(200, {"content-type": "text/plain"})
        await responder.write(b"started")
        await asyncio.sleep(3600)
    elif request.path == "/broken":
        raise RuntimeError("a simulator bug")
    else:
        await responder.send(
            200, {"x-method": request.method}, request.body + request.query.get("q", "").encode()
        )


@pytest.fixture
async def server() -> AsyncIterator[tuple[HTTPServer, str]]:
    served = HTTPServer(handler)
    port = await served.start()
    yield served, f"http://127.0.0.1:{port}"
    await served.stop()


async def test_each_write_reaches_the_client_as_its_own_read(server: tuple[HTTPServer, str]) -> None:
    async with httpx.AsyncClient() as client, client.stream("GET", server[1] + "/pieces") as response:
        assert [chunk async for chunk in response.aiter_raw()] == [b"a", b"\xc3", b"\xa9\r", b"\n"]


async def test_keep_alive_serves_several_requests_on_one_connection(server: tuple[HTTPServer, str]) -> None:
    async with httpx.AsyncClient() as client:
        first = await client.post(server[1] + "/echo?q=1", content=b"body-")
        second = await client.post(server[1] + "/echo?q=2", content=b"again-")
        peers = {r.extensions["network_stream"].get_extra_info("sockname") for r in (first, second)}
    assert (first.content, second.content, first.headers["x-method"]) == (b"body-1", b"again-2", "POST")
    assert len(peers) == 1  # the same client socket both times


async def test_a_handler_bug_is_a_500_and_the_server_lives_on(
    server: tuple[HTTPServer, str], caplog: pytest.LogCaptureFixture
) -> None:
    async with httpx.AsyncClient() as client:
        assert (await client.get(server[1] + "/broken")).status_code == 500
        assert (await client.get(server[1] + "/fine")).status_code == 200
    assert "simulator handler failed" in caplog.text


async def test_stop_cuts_open_connections_and_running_handlers(server: tuple[HTTPServer, str]) -> None:
    served, url = server
    async with httpx.AsyncClient() as client, client.stream("GET", url + "/hang") as response:
        reads = response.aiter_raw()
        assert await anext(reads) == b"started"
        await asyncio.wait_for(served.stop(), 1)
        with pytest.raises(httpx.RemoteProtocolError):
            await anext(reads)


async def test_two_servers_bind_different_ephemeral_ports() -> None:
    first, second = HTTPServer(handler), HTTPServer(handler)
    ports = {await first.start(), await second.start()}
    await first.stop()
    await second.stop()
    assert len(ports) == 2 and 0 not in ports
