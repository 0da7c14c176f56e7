"""UsageService.WatchQuota: live quota and budget pushed as calls are admitted and finish."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import grpc
import httpx
import pytest

from aihub.v1 import chat_service_pb2 as chat_pb
from aihub.v1 import chat_service_pb2_grpc as chat_grpc
from aihub.v1 import key_service_pb2 as key_pb
from aihub.v1 import key_service_pb2_grpc as key_grpc
from aihub.v1 import usage_service_pb2 as usage_pb
from aihub.v1 import usage_service_pb2_grpc as usage_grpc
from aihub_core.app import Core
from tests.conftest import make_account
from tests.e2e.test_grpc import bearer, new_key
from tests.fake_clock import FakeClock

Stream = grpc.aio.UnaryStreamCall[usage_pb.WatchQuotaRequest, usage_pb.WatchQuotaResponse]


async def next_snapshot(stream: Stream) -> usage_pb.WatchQuotaResponse:
    snapshot = await asyncio.wait_for(stream.read(), timeout=10)
    assert isinstance(snapshot, usage_pb.WatchQuotaResponse)
    return snapshot


async def test_snapshots_follow_admission_and_completion(
    core: Core, channel: grpc.aio.Channel, clock: FakeClock
) -> None:
    _, key = await new_key(channel)
    clock.clear_of_minute_boundary()
    watch = usage_grpc.UsageServiceStub(channel).WatchQuota(
        usage_pb.WatchQuotaRequest(), metadata=bearer(key)
    )
    first = await next_snapshot(watch)
    assert (first.plan, first.quota_limit, first.quota_used, first.quota_remaining) == ("free", 1000, 0, 1000)
    budget = first.rate_limit
    assert (budget.requests_per_minute, budget.concurrent_requests, budget.concurrent_in_flight) == (20, 3, 0)
    assert budget.requests_remaining == 20  # opening the watch is a read: not a model call
    assert budget.tokens_remaining == 5000 and budget.window_reset.seconds > 0

    upstream = core.upstreams.simulators["openrouter"]
    upstream.scenario = "held"  # in flight until the admission's snapshot is seen
    chat = asyncio.ensure_future(
        chat_grpc.ChatServiceStub(channel).Chat(chat_pb.ChatRequest(message="hi"), metadata=bearer(key))
    )
    admitted = await next_snapshot(watch)
    assert admitted.quota_used == 1 and admitted.quota_remaining == 999
    assert admitted.rate_limit.concurrent_in_flight == 1
    assert admitted.rate_limit.requests_remaining == 19
    assert admitted.rate_limit.tokens_remaining < 5000 - 1000  # the estimate is held while in flight

    upstream.release()
    answer = await chat
    finished = await next_snapshot(watch)
    assert finished.rate_limit.concurrent_in_flight == 0
    assert (
        finished.rate_limit.tokens_remaining == 5000 - answer.usage.total_tokens
    )  # settled to the real count
    watch.cancel()


async def test_watching_takes_the_usage_permission(channel: grpc.aio.Channel) -> None:
    jwt, _ = await new_key(channel)
    chat_only = await key_grpc.KeyServiceStub(channel).CreateApiKey(
        key_pb.CreateApiKeyRequest(name="chat only", permissions=["chat"]), metadata=bearer(jwt)
    )
    watch = usage_grpc.UsageServiceStub(channel).WatchQuota(
        usage_pb.WatchQuotaRequest(), metadata=bearer(chat_only.key)
    )
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await watch.read()
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def _next_event(lines: AsyncIterator[str]) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        async for line in lines:
            if line.startswith("data:"):
                event: dict[str, Any] = json.loads(line[5:])
                return event
        raise AssertionError("the stream ended")

    return await asyncio.wait_for(read(), timeout=10)


async def test_the_live_quota_over_rest_as_server_sent_events(
    http: httpx.AsyncClient, clock: FakeClock
) -> None:
    # The web console's live figures: the login token opens the stream, a key's chat moves it.
    account = await make_account(http)
    clock.clear_of_minute_boundary()
    async with http.stream("GET", "/v1/developer/quota/watch", headers=account.jwt_auth) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream"
        # A read of the user's own read limit, never of the plan's minute.
        assert response.headers["x-ratelimit-limit"] == "600"
        lines = response.aiter_lines()
        first = await _next_event(lines)
        assert first["type"] == "quota" and first["plan"] == "free"
        assert (first["quota_limit"], first["quota_used"], first["quota_remaining"]) == (1000, 0, 1000)
        assert first["rate_limit"]["requests_per_minute"] == 20 and first["reset_date"]
        chat = await http.post("/v1/developer/chat", json={"message": "hi"}, headers=account.key_auth)
        assert chat.status_code == 200
        seen = [await _next_event(lines)]
        while seen[-1]["rate_limit"].get("concurrent_in_flight", 0) != 0 or seen[-1]["quota_used"] != 1:
            seen.append(await _next_event(lines))
        assert seen[-1]["quota_remaining"] == 999


async def test_the_live_quota_over_rest_refuses_a_missing_credential(http: httpx.AsyncClient) -> None:
    refused = await http.get("/v1/developer/quota/watch")
    assert refused.status_code == 401 and refused.json()["error"]["type"] == "authentication_error"


async def test_a_stream_ends_when_its_login_token_is_logged_out(http: httpx.AsyncClient) -> None:
    account = await make_account(http)
    async with http.stream("GET", "/v1/developer/quota/watch", headers=account.jwt_auth) as response:
        lines = response.aiter_lines()
        assert (await _next_event(lines))["type"] == "quota"
        assert (await http.post("/v1/auth/logout", headers=account.jwt_auth)).status_code == 200
        # The next change (a chat with the account's key) would have been a snapshot: it ends it.
        chat = await http.post("/v1/developer/chat", json={"message": "hi"}, headers=account.key_auth)
        assert chat.status_code == 200
        event = await _next_event(lines)
        while event["type"] == "quota":
            event = await _next_event(lines)
        assert event["type"] == "error"
        assert (event["error"]["type"], event["error"]["code"]) == ("authentication_error", "token_revoked")


async def test_a_stream_ends_when_its_key_is_deleted(channel: grpc.aio.Channel) -> None:
    jwt, key = await new_key(channel)
    other = await key_grpc.KeyServiceStub(channel).CreateApiKey(
        key_pb.CreateApiKeyRequest(name="other"), metadata=bearer(jwt)
    )
    listed = await key_grpc.KeyServiceStub(channel).ListApiKeys(
        key_pb.ListApiKeysRequest(), metadata=bearer(jwt)
    )
    [watched] = [k for k in listed.api_keys if k.id != other.id]
    watch = usage_grpc.UsageServiceStub(channel).WatchQuota(
        usage_pb.WatchQuotaRequest(), metadata=bearer(key)
    )
    await next_snapshot(watch)
    await key_grpc.KeyServiceStub(channel).DeleteApiKey(
        key_pb.DeleteApiKeyRequest(key_id=watched.id), metadata=bearer(jwt)
    )
    await chat_grpc.ChatServiceStub(channel).Chat(
        chat_pb.ChatRequest(message="hi"), metadata=bearer(other.key)
    )
    with pytest.raises(grpc.aio.AioRpcError) as info:
        while True:
            await next_snapshot(watch)
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
