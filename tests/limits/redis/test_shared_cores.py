"""Two cores on one SQLite file and one Redis, as `aihub serve --workers 2` runs them: a plan's
limits hold across both over gRPC, WatchQuota on one sees calls on the other, and a core that
loses Redis answers REST calls with the spec's 503 error."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path

import grpc
import httpx
import pytest

from aihub.v1 import chat_service_pb2 as chat_pb
from aihub.v1 import chat_service_pb2_grpc as chat_grpc
from aihub.v1 import key_service_pb2 as key_pb
from aihub.v1 import model_service_pb2 as model_pb
from aihub.v1 import model_service_pb2_grpc as model_grpc
from aihub.v1 import usage_service_pb2 as usage_pb
from aihub.v1 import usage_service_pb2_grpc as usage_grpc
from aihub_cli.http_server import start_http
from aihub_core.app import Core
from aihub_core.limits.plans import BUILTIN_PLANS
from aihub_core.limits.rules import DEFAULT_READ_LIMIT
from aihub_http.app import create_app
from tests.conftest import isolated_settings, make_account
from tests.e2e.held import burst_while_held
from tests.e2e.test_grpc import bearer, error_info, new_key
from tests.fake_clock import FakeClock
from tests.limits.redis.conftest import REDIS_URL
from tests.limits.redis.proxy import RedisProxy

FREE = BUILTIN_PLANS["free"]
Channels = tuple[grpc.aio.Channel, grpc.aio.Channel]


@pytest.fixture
async def cores(tmp_path: Path, prefix: str, clock: FakeClock) -> AsyncIterator[tuple[Core, Core]]:
    settings = isolated_settings(tmp_path, redis_url=REDIS_URL, redis_prefix=prefix)
    first = await Core.start(settings, clock=clock)
    try:
        second = await Core.start(settings, clock=clock)
        try:
            yield first, second
        finally:
            await second.stop(grace=0)
    finally:
        await first.stop(grace=0)


@pytest.fixture
async def channels(cores: tuple[Core, Core]) -> AsyncIterator[Channels]:
    async with (
        grpc.aio.insecure_channel(cores[0].address) as first,
        grpc.aio.insecure_channel(cores[1].address) as second,
    ):
        yield first, second


async def code_of(call: Awaitable[object]) -> str:
    try:
        await call
    except grpc.aio.AioRpcError as err:
        assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, err.details()
        return str(error_info(err).metadata["code"])
    return "ok"


async def test_requests_per_minute_hold_across_two_cores(
    cores: tuple[Core, Core], channels: Channels, clock: FakeClock
) -> None:
    _, key = await new_key(channels[0], rate_limit=key_pb.KeyRateLimit(requests_per_minute=5))
    assert await cores[0].store.set_plan("grpc@example.com", "enterprise")  # 25 in flight: not the limit here
    clock.clear_of_minute_boundary()
    stubs = [chat_grpc.ChatServiceStub(channel) for channel in channels]
    calls = [stub.Chat(chat_pb.ChatRequest(message="hi"), metadata=bearer(key)) for stub in stubs * 6]
    codes = await asyncio.gather(*(code_of(call) for call in calls))
    assert codes.count("ok") == 5
    assert codes.count("rate_limit_exceeded") == 7


async def test_reads_per_minute_hold_across_two_cores(channels: Channels, clock: FakeClock) -> None:
    _, key = await new_key(channels[0])
    clock.clear_of_minute_boundary()
    stubs = [model_grpc.ModelServiceStub(channel) for channel in channels]
    calls = [stub.ListServices(model_pb.ListServicesRequest(), metadata=bearer(key)) for stub in stubs * 305]
    codes = await asyncio.gather(*(code_of(call) for call in calls))
    assert codes.count("ok") == DEFAULT_READ_LIMIT  # not the free plan's 20
    assert codes.count("rate_limit_exceeded") == 610 - DEFAULT_READ_LIMIT


async def test_a_plans_concurrent_calls_hold_across_two_cores(
    cores: tuple[Core, Core], channels: Channels, clock: FakeClock
) -> None:
    _, key = await new_key(channels[0])
    clock.clear_of_minute_boundary()
    upstreams = [core.upstreams.simulators["openrouter"] for core in cores]
    for upstream in upstreams:
        upstream.scenario = "held"  # admitted calls stay in flight until the burst is decided
    stubs = [chat_grpc.ChatServiceStub(channel) for channel in channels]
    calls = [stub.Chat(chat_pb.ChatRequest(message="hi"), metadata=bearer(key)) for stub in stubs * 4]
    codes = await burst_while_held(upstreams, [code_of(call) for call in calls])
    assert codes.count("ok") == FREE.concurrent_requests
    assert codes.count("concurrency_limit_exceeded") == 8 - FREE.concurrent_requests


async def test_watch_quota_on_one_core_follows_a_chat_on_the_other(
    cores: tuple[Core, Core], channels: Channels, clock: FakeClock
) -> None:
    _, key = await new_key(channels[0])
    clock.clear_of_minute_boundary()
    watch = usage_grpc.UsageServiceStub(channels[1]).WatchQuota(
        usage_pb.WatchQuotaRequest(), metadata=bearer(key)
    )
    first = await asyncio.wait_for(watch.read(), timeout=10)
    assert isinstance(first, usage_pb.WatchQuotaResponse) and first.quota_used == 0
    upstream = cores[0].upstreams.simulators["openrouter"]
    upstream.scenario = "held"  # in flight until the admission's snapshot is seen
    chat = asyncio.ensure_future(
        chat_grpc.ChatServiceStub(channels[0]).Chat(chat_pb.ChatRequest(message="hi"), metadata=bearer(key))
    )
    admitted = await asyncio.wait_for(watch.read(), timeout=10)
    assert isinstance(admitted, usage_pb.WatchQuotaResponse)
    assert (admitted.quota_used, admitted.rate_limit.concurrent_in_flight) == (1, 1)
    upstream.release()
    answer = await chat
    finished = await asyncio.wait_for(watch.read(), timeout=10)
    assert isinstance(finished, usage_pb.WatchQuotaResponse)
    assert finished.rate_limit.concurrent_in_flight == 0
    assert finished.rate_limit.tokens_remaining == FREE.tokens_per_minute - answer.usage.total_tokens
    watch.cancel()


async def test_a_core_that_loses_redis_answers_rest_with_a_503(
    proxy: RedisProxy, tmp_path: Path, prefix: str
) -> None:
    core = await Core.start(isolated_settings(tmp_path, redis_url=proxy.url, redis_prefix=prefix))
    server = await start_http(create_app(core.local_channel()), "127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", timeout=30) as http:
            account = await make_account(http)
            assert (await http.get("/v1/developer/models", headers=account.key_auth)).status_code == 200
            await proxy.cut()
            for answer in (
                await http.get("/v1/developer/models", headers=account.key_auth),
                await http.post("/v1/developer/chat", json={"message": "hi"}, headers=account.key_auth),
            ):
                assert answer.status_code == 503, answer.text
                body = answer.json()
                assert (body["error"]["type"], body["error"]["code"]) == ("api_error", "limiter_unavailable")
                assert body["request_id"] == answer.headers["x-request-id"]
    finally:
        await server.stop()
        await core.stop(grace=0)
