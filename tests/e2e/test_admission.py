"""Admission through the real core: request ids minted by the server, quota, refused calls."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import grpc
import httpx

from aihub.v1 import chat_service_pb2 as chat_pb
from aihub.v1 import chat_service_pb2_grpc as chat_grpc
from aihub.v1 import usage_service_pb2 as usage_pb
from aihub.v1 import usage_service_pb2_grpc as usage_grpc
from aihub_core.app import Core
from aihub_core.store.base import UsageRecord
from tests.conftest import Account, make_account
from tests.e2e.test_grpc import bearer, new_key
from tests.fake_clock import FakeClock

DEV = "/v1/developer"


async def test_a_caller_chosen_request_id_never_keys_the_ledger(
    core: Core, channel: grpc.aio.Channel
) -> None:
    _, key = await new_key(channel)
    stub = chat_grpc.ChatServiceStub(channel)
    metadata = (*bearer(key), ("x-request-id", "fixed"))
    answers = [await stub.Chat(chat_pb.ChatRequest(message="hi"), metadata=metadata) for _ in range(3)]
    ids = {a.metadata.request_id for a in answers}
    assert len(ids) == 3 and "fixed" not in ids
    _, other = await new_key(channel, "other@example.com")
    await stub.Chat(chat_pb.ChatRequest(message="hi"), metadata=(*bearer(other), ("x-request-id", "fixed")))
    usage = await usage_grpc.UsageServiceStub(channel).GetQuota(
        usage_pb.GetQuotaRequest(), metadata=bearer(key)
    )
    assert usage.quota_used == 3


async def test_the_rest_request_id_is_the_ledger_id(http: httpx.AsyncClient, account: Account) -> None:
    answer = await http.post(f"{DEV}/chat", json={"message": "hi"}, headers=account.key_auth)
    assert answer.json()["metadata"]["request_id"] == answer.headers["x-request-id"]
    refused = await http.post(f"{DEV}/chat", json={"message": ""}, headers=account.key_auth)
    assert refused.json()["request_id"] == refused.headers["x-request-id"] != answer.headers["x-request-id"]


async def test_a_403_carries_rate_limit_headers_and_costs_nothing(
    http: httpx.AsyncClient, clock: FakeClock
) -> None:
    account = await make_account(http, permissions=["models"], rate_limit={"requests_per_minute": 3})
    clock.clear_of_minute_boundary()
    denied = await http.post(f"{DEV}/chat", json={"message": "hi"}, headers=account.key_auth)
    assert denied.status_code == 403
    assert denied.headers["x-ratelimit-limit"] == "3" and denied.headers["x-ratelimit-remaining"] == "3"
    allowed = await http.get(f"{DEV}/models", headers=account.key_auth)
    assert (
        allowed.status_code == 200 and allowed.headers["x-ratelimit-limit"] == "600"
    )  # a read: its own limit


async def test_a_spent_monthly_quota_refuses_chat_with_a_429(
    core: Core, http: httpx.AsyncClient, account: Account
) -> None:
    user_id = (await core.store.get_user_by_email(account.email)).id  # type: ignore[union-attr]
    now = datetime.now(UTC)
    records = [
        UsageRecord(
            f"req_seed{i}", user_id, None, "openrouter", "x-ai/grok-beta", 1, 1, 0, "ok", "provider", now
        )
        for i in range(1000)
    ]
    await asyncio.gather(*(core.store.record_usage(r) for r in records))
    refused = await http.post(f"{DEV}/chat", json={"message": "hi"}, headers=account.key_auth)
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert (error["type"], error["code"]) == ("rate_limit_error", "quota_exceeded")
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["x-ratelimit-remaining"] == "20"  # the refused call was not counted
    quota = (await http.get(f"{DEV}/quota", headers=account.key_auth)).json()
    assert (quota["quota_used"], quota["quota_remaining"]) == (1000, 0)
    assert (await http.get(f"{DEV}/models", headers=account.key_auth)).status_code == 200


async def test_a_spent_minute_is_refilled_in_the_next_one(http: httpx.AsyncClient, clock: FakeClock) -> None:
    account = await make_account(http, rate_limit={"requests_per_minute": 1})
    clock.clear_of_minute_boundary()
    hi = {"message": "hi"}
    assert (await http.post(f"{DEV}/chat", json=hi, headers=account.key_auth)).status_code == 200
    refused = await http.post(f"{DEV}/chat", json=hi, headers=account.key_auth)
    assert refused.status_code == 429
    clock.advance(int(refused.headers["retry-after"]))  # the core's minute windows read its clock
    again = await http.post(f"{DEV}/chat", json=hi, headers=account.key_auth)
    assert again.status_code == 200 and again.headers["x-ratelimit-remaining"] == "0"
