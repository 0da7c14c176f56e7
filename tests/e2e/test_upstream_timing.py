"""Timing through the whole gateway: a client that leaves closes the upstream connection within
100 ms, and the three upstream timeouts end calls with the spec's errors."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest

from aihub.v1 import chat_service_pb2 as chat_pb
from aihub.v1 import chat_service_pb2_grpc as chat_grpc
from aihub_cli.http_server import start_http
from aihub_core.app import Core
from aihub_core.providers.timeouts import UpstreamTimeouts
from aihub_http.app import create_app
from tests.conftest import Account, isolated_settings, make_account, shim_target
from tests.e2e.sse import sse_events
from tests.e2e.test_grpc import bearer, new_key
from tests.fake_clock import FakeClock
from tests.waiting import eventually

DEV = "/v1/developer"
CLOSE_BUDGET = 0.1


async def gone_within(core: Core, budget: float) -> float:
    """Seconds until the simulator saw the gateway hang up on the last request."""
    request = core.upstreams.simulators["openrouter"].requests[-1]
    started = time.monotonic()
    await asyncio.wait_for(request.client_gone.wait(), timeout=5)
    return time.monotonic() - started


async def usage_rows(http: httpx.AsyncClient, account: Account) -> dict[str, int]:
    return (await http.get(f"{DEV}/usage", params={"period": "day"}, headers=account.key_auth)).json()  # type: ignore[no-any-return]


async def test_a_rest_client_leaving_closes_the_upstream_at_once(
    core: Core, http: httpx.AsyncClient, account: Account
) -> None:
    core.upstreams.simulators["openrouter"].scenario = "stall"
    async with http.stream(
        "POST", f"{DEV}/chat/stream", json={"message": "hi"}, headers=account.key_auth
    ) as r:
        async for line in r.aiter_lines():
            if line.startswith("data:"):
                break  # the first content event arrived; now the client goes away
    assert await gone_within(core, CLOSE_BUDGET) <= CLOSE_BUDGET
    core.upstreams.simulators["openrouter"].scenario = None

    async def recorded() -> bool:  # the cancelled call's record lands as its task unwinds
        usage = await usage_rows(http, account)
        return usage["total_requests"] == 1 and usage["total_tokens"] > 0  # prompt + partial, estimated

    await eventually(recorded, "the cancelled call is recorded with its tokens")


async def test_a_grpc_client_cancelling_closes_the_upstream_at_once(
    core: Core, channel: grpc.aio.Channel
) -> None:
    _, key = await new_key(channel)
    core.upstreams.simulators["openrouter"].scenario = "stall"
    stream = chat_grpc.ChatServiceStub(channel).StreamChat(
        chat_pb.StreamChatRequest(message="hi"), metadata=bearer(key)
    )
    await stream.read()
    stream.cancel()
    assert await gone_within(core, CLOSE_BUDGET) <= CLOSE_BUDGET


@pytest.fixture
async def impatient(
    tmp_path: Path, transport: str, clock: FakeClock
) -> AsyncIterator[tuple[Core, httpx.AsyncClient]]:
    """A gateway whose upstream timeouts are short, so timeouts can be watched in a test (the
    timed-out attempts' retries skip their backoff: `clock`)."""
    settings = isolated_settings(tmp_path, timeouts=UpstreamTimeouts(connect=1.0, first_byte=0.2, idle=0.2))
    core = await Core.start(settings, clock=clock)
    server = await start_http(create_app(shim_target(core, transport)), "127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", timeout=30) as client:
            yield core, client
    finally:
        await server.stop()
        await core.stop(grace=0)


async def test_a_slow_first_byte_times_out_as_an_api_error(impatient: tuple[Core, httpx.AsyncClient]) -> None:
    core, http = impatient
    account = await make_account(http)
    core.upstreams.simulators["openrouter"].scenario = "slow-first-byte"
    answer = await http.post(f"{DEV}/chat", json={"message": "hi"}, headers=account.key_auth)
    assert answer.status_code == 504, answer.text
    assert (answer.json()["error"]["type"], answer.json()["error"]["code"]) == (
        "api_error",
        "upstream_timeout",
    )
    assert (await usage_rows(http, account))["total_cost_usd"] == 0.0  # nothing came back: nothing charged


async def test_a_stall_between_chunks_ends_the_stream_with_an_error_event(
    impatient: tuple[Core, httpx.AsyncClient],
) -> None:
    core, http = impatient
    account = await make_account(http)
    core.upstreams.simulators["openrouter"].scenario = "stall"
    started = time.monotonic()
    async with http.stream(
        "POST", f"{DEV}/chat/stream", json={"message": "hi"}, headers=account.key_auth
    ) as r:
        events = await sse_events(r)
    assert time.monotonic() - started < 5
    assert [e["type"] for e in events] == ["content", "error"]
    assert events[-1]["error"]["code"] == "upstream_timeout"
