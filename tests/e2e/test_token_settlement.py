"""Every ending of a model call settles the tokens-per-minute window to the tokens the ledger
charged (issue 11, item 1): completed, cancelled by the client, failed, timed out; over REST and
the message-array RPCs, with the in-process admitter and with Redis."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
import pytest

from aihub.v1 import chat_service_pb2 as chat_pb
from aihub.v1 import chat_service_pb2_grpc as chat_grpc
from aihub.v1 import conversation_pb2 as conv_pb
from aihub.v1 import usage_service_pb2 as usage_pb
from aihub.v1 import usage_service_pb2_grpc as usage_grpc
from aihub_core.app import Core
from aihub_core.providers.timeouts import UpstreamTimeouts
from tests.conftest import Account, make_account
from tests.e2e import gateways
from tests.e2e.completions import ledger, user
from tests.e2e.gateways import BACKENDS
from tests.e2e.test_grpc import bearer
from tests.fake_clock import FakeClock
from tests.waiting import eventually

DEV = "/v1/developer"
ENTERPRISE_TPM = 50_000


@dataclass
class Gateway:
    core: Core
    http: httpx.AsyncClient
    channel: grpc.aio.Channel
    account: Account


@pytest.fixture(params=BACKENDS)
async def gateway(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Gateway]:
    """A core counting in this process or in Redis, with short upstream timeouts, the shim in
    front of it, and an enterprise account."""
    timeouts = UpstreamTimeouts(connect=1.0, first_byte=0.2, idle=0.2)
    async with (
        gateways.gateway(request.param, tmp_path, clock, timeouts=timeouts) as (core, http),
        grpc.aio.insecure_channel(core.address) as channel,
    ):
        account = await make_account(http, "boss@example.com")
        assert await core.store.set_plan(account.email, "enterprise")
        clock.clear_of_minute_boundary(margin=20)
        yield Gateway(core, http, channel, account)


async def settled(gateway: Gateway, calls: int) -> None:
    """Wait until the ledger has `calls` settled rows and the window holds exactly what they
    charged, reading the window from one WatchQuota stream (a snapshot at each change)."""
    watch = usage_grpc.UsageServiceStub(gateway.channel).WatchQuota(
        usage_pb.WatchQuotaRequest(), metadata=bearer(gateway.account.key)
    )
    left: list[int] = []

    async def read() -> None:
        async for snapshot in watch:
            left.append(snapshot.rate_limit.tokens_remaining)

    reader = asyncio.create_task(read())

    def window_matches() -> bool:
        rows = [r for r in ledger(gateway.core) if r["status"] != "pending"]
        spent = sum(r["prompt_tokens"] + r["completion_tokens"] for r in rows)
        return len(rows) == calls and bool(left) and left[-1] == ENTERPRISE_TPM - spent

    try:
        await eventually(window_matches, "the token window holds what the ledger charged")
    finally:
        watch.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


def charged(gateway: Gateway) -> int:
    """Tokens the ledger charged."""
    return sum(r["prompt_tokens"] + r["completion_tokens"] for r in ledger(gateway.core))


async def stream_and_leave(gateway: Gateway, body: dict[str, object]) -> None:
    """A /chat/stream the client closes after its first content event."""
    async with gateway.http.stream(
        "POST", f"{DEV}/chat/stream", json=body, headers=gateway.account.key_auth
    ) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("data:") and '"content"' in line:
                break


async def test_abandoned_streams_give_their_estimate_back(gateway: Gateway) -> None:
    # The reproduction: each stream is admitted with ~16,000 tokens, charged a few dozen.
    gateway.core.upstreams.simulators["openrouter"].scenario = "stall"
    for _ in range(3):
        await stream_and_leave(gateway, {"message": "Tell me a long story", "max_tokens": 16000})
    await settled(gateway, calls=3)
    assert charged(gateway) < 500
    gateway.core.upstreams.simulators["openrouter"].scenario = None
    answer = await gateway.http.post(
        f"{DEV}/chat", json={"message": "hi", "max_tokens": 5000}, headers=gateway.account.key_auth
    )
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    ("scenario", "stream", "status"),
    [
        (None, False, 200),  # completed
        (None, True, 200),
        ("midstream-error", True, 200),  # failed after content: partial answer charged
        ("error-500", False, 502),  # failed before any content: nothing charged
        ("stall", True, 200),  # timed out between two chunks (the idle timeout)
        ("slow-first-byte", False, 504),  # timed out before the first byte
    ],
)
async def test_every_ending_settles_the_window(
    gateway: Gateway, scenario: str | None, stream: bool, status: int
) -> None:
    gateway.core.upstreams.simulators["openrouter"].scenario = scenario
    body = {"message": "Tell me a long story", "max_tokens": 16000, "stream": stream}
    async with gateway.http.stream("POST", f"{DEV}/chat", json=body, headers=gateway.account.key_auth) as r:
        await r.aread()
    assert r.status_code == status, r.text
    await settled(gateway, calls=1)


async def test_message_array_calls_settle_the_window(gateway: Gateway) -> None:
    stub = chat_grpc.ChatServiceStub(gateway.channel)
    generation = conv_pb.GenerationConfig(max_tokens=16000)
    simulator = gateway.core.upstreams.simulators["openrouter"]
    simulator.scenario = "stall"
    stream = stub.StreamChatCompletion(
        chat_pb.StreamChatCompletionRequest(
            model="x-ai/grok-beta", messages=[user("Tell me a long story")], generation=generation
        ),
        metadata=bearer(gateway.account.key),
    )
    await stream.read()
    stream.cancel()
    await settled(gateway, calls=1)
    simulator.scenario = "midstream-error"
    with pytest.raises(grpc.aio.AioRpcError):
        await stub.CreateChatCompletion(
            chat_pb.CreateChatCompletionRequest(
                model="x-ai/grok-beta", messages=[user("Tell me a long story")], generation=generation
            ),
            metadata=bearer(gateway.account.key),
        )
    await settled(gateway, calls=2)
    simulator.scenario = None
    await stub.CreateChatCompletion(
        chat_pb.CreateChatCompletionRequest(
            model="x-ai/grok-beta", messages=[user("hi")], generation=generation
        ),
        metadata=bearer(gateway.account.key),
    )
    await settled(gateway, calls=3)


async def test_an_abandoned_openai_stream_settles_the_window(gateway: Gateway) -> None:
    gateway.core.upstreams.simulators["openrouter"].scenario = "stall"
    body = {
        "model": "x-ai/grok-beta",
        "messages": [{"role": "user", "content": "Tell me a long story"}],
        "max_tokens": 16000,
        "stream": True,
    }
    headers = gateway.account.key_auth
    async with gateway.http.stream("POST", "/v1/chat/completions", json=body, headers=headers) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("data:") and '"content"' in line:
                break  # the client goes away after its first piece of text
    await settled(gateway, calls=1)
