"""Bursts of simultaneous requests, REST and gRPC mixed, against each limit kind: exactly
min(N, L) are admitted, every refusal is a 429 with the figures, and refused chats are recorded
as refused at no cost."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable
from datetime import UTC, datetime

import grpc
import httpx

from aihub.v1 import chat_service_pb2 as chat_pb
from aihub.v1 import chat_service_pb2_grpc as chat_grpc
from aihub.v1 import model_service_pb2 as model_pb
from aihub.v1 import model_service_pb2_grpc as model_grpc
from aihub_core.app import Core
from aihub_core.store.base import UsageRecord
from aihub_core.store.sqlite.url import sqlite_path
from tests.conftest import Account, make_account
from tests.e2e.held import burst_while_held
from tests.e2e.test_grpc import bearer, error_info
from tests.fake_clock import FakeClock

DEV = "/v1/developer"
Outcome = tuple[int, str]  # (HTTP status or 200 for a gRPC success / 429 for RESOURCE_EXHAUSTED, error code)


async def rest(call: Awaitable[httpx.Response]) -> Outcome:
    answer = await call
    if answer.status_code == 200:
        assert answer.headers["x-ratelimit-limit"] and answer.headers["x-ratelimit-reset"]
        return 200, ""
    assert answer.status_code == 429, answer.text
    assert int(answer.headers["retry-after"]) >= 1 and answer.headers["x-ratelimit-limit"]
    return 429, answer.json()["error"]["code"]


async def rpc(call: Awaitable[object]) -> Outcome:
    try:
        await call
    except grpc.aio.AioRpcError as err:
        assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, err.details()
        return 429, error_info(err).metadata["code"]
    return 200, ""


def refused_rows(core: Core) -> int:
    with sqlite3.connect(sqlite_path(core.settings.database_url)) as db:
        (count,) = db.execute("SELECT COUNT(*) FROM usage_records WHERE status = 'refused'").fetchone()
    return int(count)


async def test_requests_per_minute(
    core: Core, http: httpx.AsyncClient, channel: grpc.aio.Channel, clock: FakeClock
) -> None:
    account = await make_account(http, rate_limit={"requests_per_minute": 5})
    assert await core.store.set_plan(account.email, "enterprise")  # 25 calls in flight: not the limit here
    clock.clear_of_minute_boundary()
    chat = chat_grpc.ChatServiceStub(channel)
    calls = [
        rest(http.post(f"{DEV}/chat", json={"message": "hi"}, headers=account.key_auth)) for _ in range(6)
    ]
    calls += [
        rpc(chat.Chat(chat_pb.ChatRequest(message="hi"), metadata=bearer(account.key))) for _ in range(6)
    ]
    outcomes = await asyncio.gather(*calls)
    assert outcomes.count((200, "")) == 5
    assert outcomes.count((429, "rate_limit_exceeded")) == 7


async def test_reads_per_minute(http: httpx.AsyncClient, channel: grpc.aio.Channel, clock: FakeClock) -> None:
    account = await make_account(http, rate_limit={"requests_per_minute": 5})
    clock.clear_of_minute_boundary()
    models = model_grpc.ModelServiceStub(channel)
    calls = [rest(http.get(f"{DEV}/models", headers=account.key_auth)) for _ in range(305)]
    calls += [
        rpc(models.ListServices(model_pb.ListServicesRequest(), metadata=bearer(account.key)))
        for _ in range(305)
    ]
    outcomes = await asyncio.gather(*calls)
    assert outcomes.count((200, "")) == 600  # AIHUB_READ_RATE_LIMIT's default, not the key's 5
    assert outcomes.count((429, "rate_limit_exceeded")) == 10


async def test_concurrent_requests(
    core: Core, http: httpx.AsyncClient, channel: grpc.aio.Channel, account: Account
) -> None:
    upstream = core.upstreams.simulators["openrouter"]
    upstream.scenario = "held"  # each admitted call stays in flight until the burst is decided
    chat = chat_grpc.ChatServiceStub(channel)
    calls = [
        rest(http.post(f"{DEV}/chat", json={"message": "hi"}, headers=account.key_auth)) for _ in range(4)
    ]
    calls += [
        rpc(chat.Chat(chat_pb.ChatRequest(message="hi"), metadata=bearer(account.key))) for _ in range(4)
    ]
    outcomes = await burst_while_held([upstream], calls)
    assert outcomes.count((200, "")) == 3  # the free plan's concurrency
    assert outcomes.count((429, "concurrency_limit_exceeded")) == 5
    assert refused_rows(core) == 5
    core.upstreams.simulators["openrouter"].scenario = None
    assert (await rest(http.post(f"{DEV}/chat", json={"message": "hi"}, headers=account.key_auth)))[0] == 200


async def test_tokens_per_minute(
    core: Core, http: httpx.AsyncClient, channel: grpc.aio.Channel, account: Account, clock: FakeClock
) -> None:
    upstream = core.upstreams.simulators["openrouter"]
    upstream.scenario = "held"  # nothing settles mid-burst
    body = {"message": "hi", "max_tokens": 2000}  # ~2,010 estimated: two fit in the free 5,000
    clock.clear_of_minute_boundary()
    stream = chat_grpc.ChatServiceStub(channel)
    calls = [rest(http.post(f"{DEV}/chat", json=body, headers=account.key_auth)) for _ in range(2)]
    calls += [
        rpc(
            _drain(
                stream.StreamChat(
                    chat_pb.StreamChatRequest(message="hi", max_tokens=2000), metadata=bearer(account.key)
                )
            )
        )
        for _ in range(3)
    ]
    outcomes = await burst_while_held([upstream], calls)
    assert outcomes.count((200, "")) == 2
    assert outcomes.count((429, "tokens_rate_limit_exceeded")) == 3
    too_big = await http.post(
        f"{DEV}/chat", json={"message": "hi", "max_tokens": 6000}, headers=account.key_auth
    )
    assert too_big.status_code == 400 and too_big.json()["error"]["details"]["parameter"] == "max_tokens"


async def test_monthly_quota(
    core: Core, http: httpx.AsyncClient, channel: grpc.aio.Channel, account: Account
) -> None:
    user = await core.store.get_user_by_email(account.email)
    assert user is not None
    now = datetime.now(UTC)
    await asyncio.gather(
        *(
            core.store.record_usage(
                UsageRecord(
                    f"req_seed{i}",
                    user.id,
                    None,
                    "openrouter",
                    "x-ai/grok-beta",
                    1,
                    1,
                    0,
                    "ok",
                    "provider",
                    now,
                )
            )
            for i in range(997)
        )
    )
    chat = chat_grpc.ChatServiceStub(channel)
    calls = [
        rest(http.post(f"{DEV}/chat", json={"message": "hi"}, headers=account.key_auth)) for _ in range(3)
    ]
    calls += [
        rpc(chat.Chat(chat_pb.ChatRequest(message="hi"), metadata=bearer(account.key))) for _ in range(3)
    ]
    outcomes = await asyncio.gather(*calls)
    assert outcomes.count((200, "")) == 3
    assert outcomes.count((429, "quota_exceeded")) == 3
    quota = (await http.get(f"{DEV}/quota", headers=account.key_auth)).json()
    assert (quota["quota_used"], quota["quota_remaining"]) == (1000, 0)
    assert refused_rows(core) == 3


async def _drain(
    call: grpc.aio.UnaryStreamCall[chat_pb.StreamChatRequest, chat_pb.StreamChatResponse],
) -> None:
    async for _ in call:
        pass
