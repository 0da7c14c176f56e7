"""Request bodies on the real server (uvicorn with httptools, as `aihub serve` runs it): each
route's bound and the bytes of bodies the shim holds at once, enforced before a body is read."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client import CollectorRegistry

from aihub_cli.http_server import start_http
from aihub_http import ROUTES, RpcRoute, ShimOptions, create_app
from aihub_http.routes import CHAT_BODY_BYTES, SMALL_BODY_BYTES
from tests.http.fakes import FakeCore
from tests.http.raw import connect

BUDGET = 100_000


@contextlib.asynccontextmanager
async def shim(fake: FakeCore, options: ShimOptions) -> AsyncIterator[int]:
    """The shim with these options in front of `fake`, on uvicorn as `aihub serve` runs it; its port."""
    app = create_app(f"127.0.0.1:{fake.port}", registry=CollectorRegistry(), options=options)
    server = await start_http(app, "127.0.0.1", 0)
    try:
        yield server.port
    finally:
        await server.stop()


@pytest.fixture
async def port(fake: FakeCore) -> AsyncIterator[int]:
    async with shim(fake, ShimOptions(max_body_bytes_in_flight=BUDGET)) as bound:
        yield bound


@pytest.fixture
async def big_budget_port(fake: FakeCore) -> AsyncIterator[int]:
    async with shim(fake, ShimOptions()) as bound:
        yield bound


@pytest.fixture
async def impatient_port(fake: FakeCore) -> AsyncIterator[int]:
    async with shim(fake, ShimOptions(body_timeout=0.3)) as bound:
        yield bound


def assert_refusal(status: int, body: dict[str, object], code: str) -> None:
    error = body["error"]
    assert isinstance(error, dict)
    assert (status, error["code"]) == ({"request_too_large": 413, "server_busy": 503}[code], code)
    assert set(body) == {"error", "request_id"}


@pytest.mark.parametrize("route", [r for r in ROUTES if r.reads_body], ids=lambda r: r.path)
async def test_a_declared_length_over_the_routes_bound_is_a_413_before_any_byte_is_sent(
    big_budget_port: int, fake: FakeCore, route: RpcRoute
) -> None:
    # Eight of these 31 MB register calls at once took the server from 88 MB to 956 MB: now no
    # byte of the body is read (none is even sent here), so none is held.
    declared = max(31_000_000, route.max_body_bytes + 1)
    async with connect(big_budget_port) as connection:
        await connection.send_head(
            "POST", route.path, {"Content-Type": "application/json", "Content-Length": str(declared)}
        )
        answer = await connection.response()
    assert_refusal(answer.status, answer.json(), "request_too_large")
    assert str(route.max_body_bytes) in answer.json()["error"]["message"]
    assert fake.calls == []


def test_each_route_takes_only_what_it_needs() -> None:
    bounds = {route.path: route.max_body_bytes for route in ROUTES if route.reads_body}
    assert bounds == {
        "/v1/auth/register": SMALL_BODY_BYTES,
        "/v1/auth/login": SMALL_BODY_BYTES,
        "/v1/auth/logout": SMALL_BODY_BYTES,
        "/v1/developer/chat": CHAT_BODY_BYTES,
        "/v1/developer/chat/stream": CHAT_BODY_BYTES,
        "/v1/developer/api-keys": SMALL_BODY_BYTES,
        "/v1/developer/api-keys/{key_id}/rotate": SMALL_BODY_BYTES,
        "/v1/developer/alerts": SMALL_BODY_BYTES,
        "/v1/admin/users/{user_id}/plan": SMALL_BODY_BYTES,
        "/v1/admin/users/{user_id}/budget": SMALL_BODY_BYTES,
        "/v1/chat/completions": CHAT_BODY_BYTES,
        "/v1/embeddings": CHAT_BODY_BYTES,
    }
    assert SMALL_BODY_BYTES <= 64 * 1024
    # 20 MiB of images as base64 and a 2,000,000-character message fit; much more does not.
    assert 20 * 1024 * 1024 * 4 // 3 + 8_000_000 < CHAT_BODY_BYTES <= 48 * 1024 * 1024


async def test_a_chunked_body_is_counted_as_it_arrives(big_budget_port: int, fake: FakeCore) -> None:
    async def pieces() -> AsyncIterator[bytes]:
        yield b'{"email": "a@b.dev", "password": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}'

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{big_budget_port}") as client:
        answer = await client.post("/v1/auth/login", content=pieces())  # no length: chunked
    assert_refusal(answer.status_code, answer.json(), "request_too_large")
    assert fake.calls == []


async def test_bodies_beyond_the_bytes_in_flight_are_a_503_at_once_until_room_is_back(
    port: int, fake: FakeCore
) -> None:
    body = json.dumps({"message": "x" * 89_970}).encode()
    assert 90_000 - 100 < len(body) <= 90_000
    async with connect(port) as holder, connect(port) as other:
        head = {
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
            "Expect": "100-continue",
        }
        await holder.send_head("POST", "/v1/developer/chat", head)
        # The server asks for the body once it has reserved room for it.
        assert (await holder.response()).status == 100

        await other.send_head("POST", "/v1/auth/login", {"Content-Length": str(BUDGET - len(body) + 1)})
        refused = await other.response()
        assert_refusal(refused.status, refused.json(), "server_busy")
        assert refused.headers["retry-after"] == "1"
        assert "100000" in refused.json()["error"]["message"]

        await holder.send(body)
        assert (await holder.response()).status == 200
        assert [call.method for call in fake.calls] == ["Chat"]
    # The chat is answered: its room is free again.
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        login = await client.post("/v1/auth/login", content=b'{"email": "a@b.dev", "password": "pw"}')
    assert login.status_code == 200


async def test_a_body_larger_than_the_whole_budget_is_a_413(port: int) -> None:
    async with connect(port) as connection:
        await connection.send_head("POST", "/v1/developer/chat", {"Content-Length": str(BUDGET + 1)})
        answer = await connection.response()
    assert_refusal(answer.status, answer.json(), "request_too_large")
    assert str(BUDGET) in answer.json()["error"]["message"]


async def test_a_client_gone_while_sending_its_body_gives_its_room_back(port: int, fake: FakeCore) -> None:
    for _ in range(3):  # each would hold 90,000 of the 100,000 bytes if its room were kept
        async with connect(port) as connection:
            await connection.send_head(
                "POST", "/v1/developer/chat", {"Content-Length": "90000", "Expect": "100-continue"}
            )
            assert (await connection.response()).status == 100
            await connection.send(b'{"message": "')
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        for _ in range(100):  # the server notices each close when it next reads that connection
            chat = await client.post("/v1/developer/chat", json={"message": "x" * 89_000})
            if chat.status_code != 503:
                break
            await asyncio.sleep(0.05)
    assert chat.status_code == 200, chat.text


async def test_a_body_that_stalls_is_a_408_and_its_connection_is_closed(
    impatient_port: int, fake: FakeCore
) -> None:
    async with connect(impatient_port) as connection:
        await connection.send_head("POST", "/v1/auth/login", {"Content-Length": "100"})
        await connection.send(b'{"email": ')  # and then nothing
        answer = await connection.response()
        assert answer.status == 408
        assert answer.json()["error"] == {
            "type": "invalid_request_error",
            "code": "request_timeout",
            "message": "The request body stalled: nothing of it arrived for 0.3 seconds",
            "details": {},
        }
        assert answer.headers["connection"] == "close"
        assert await connection.closed_by_server()
    assert fake.calls == []
