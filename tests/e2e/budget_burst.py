"""A burst of chats against a budget, over REST (half of them streamed) and, given channels, over
gRPC too (Chat and StreamChat), spread over one or more shims and cores; then what must hold:
settled spend within the budget, every refusal in the documented shape, and `/quota` equal to the
ledger to the last digit."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import grpc
import httpx

from aihub.v1 import chat_service_pb2 as chat_pb
from aihub.v1 import chat_service_pb2_grpc as chat_grpc
from aihub_core.pricing import usd
from aihub_core.store.base import Store
from tests.conftest import Account
from tests.e2e.test_grpc import bearer, error_info
from tests.waiting import eventually

DEV = "/v1/developer"
# The simulated default model (x-ai/grok-beta) charges 0.000002 USD a token either way, and answers
# "hi" with max_tokens of 50 in exactly 50 tokens: 55 tokens, 0.00011 USD, which is also the worst case.
BUDGET_USD = 0.002
CALLS = 200
PLANS = """
[plans.unlimited]
requests_per_minute = 0
tokens_per_minute = 0
concurrent_requests = 0
monthly_requests = 0

[plans.capped]
requests_per_minute = 0
tokens_per_minute = 0
concurrent_requests = 0
monthly_requests = 0
monthly_budget_usd = 0.002
"""


async def _one(http: httpx.AsyncClient, account: Account, i: int) -> tuple[int, dict[str, Any]]:
    # Varied answers: some calls ask more than they get charged (a shorter max_tokens is its own
    # worst case; a stream is settled with the provider's counts).
    body = {"message": "hi", "max_tokens": 20 + i % 31, "stream": i % 2 == 1}
    async with http.stream("POST", f"{DEV}/chat", json=body, headers=account.key_auth) as answer:
        await answer.aread()
    if answer.status_code == 200:
        return 200, {}
    return answer.status_code, answer.json()


async def _one_rpc(channel: grpc.aio.Channel, account: Account, i: int) -> tuple[int, dict[str, Any]]:
    stub = chat_grpc.ChatServiceStub(channel)
    max_tokens = 20 + i % 31
    try:
        if i % 2:
            request = chat_pb.StreamChatRequest(message="hi", max_tokens=max_tokens)
            async for _ in stub.StreamChat(request, metadata=bearer(account.key)):
                pass
        else:
            await stub.Chat(
                chat_pb.ChatRequest(message="hi", max_tokens=max_tokens), metadata=bearer(account.key)
            )
    except grpc.aio.AioRpcError as err:
        assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, err.details()
        info = dict(error_info(err).metadata)
        return 429, {"error": {"type": info.pop("type"), "code": info.pop("code"), "details": info}}
    return 200, {}


async def budget_burst(
    shims: list[httpx.AsyncClient],
    account: Account,
    store: Store,
    scope: str = "key",
    period: str = "day",
    channels: Sequence[grpc.aio.Channel] = (),
) -> None:
    """Fire CALLS chats at once and check the outcome: the account's key has BUDGET_USD a day
    (`scope` key), or its plan (`capped`) or the user a month (`scope` plan, user)."""
    # With channels, every third call goes over gRPC.
    calls = [
        _one_rpc(channels[i % len(channels)], account, i)
        if channels and i % 3 == 2
        else _one(shims[i % len(shims)], account, i)
        for i in range(CALLS)
    ]
    outcomes = await asyncio.gather(*calls)
    admitted = [o for o in outcomes if o[0] == 200]
    refused = [body["error"] for status, body in outcomes if status != 200]
    assert admitted and refused, "the burst must both fit and overrun the budget"
    assert {(r["type"], r["code"]) for r in refused} == {("rate_limit_error", "budget_exceeded")}
    assert {status for status, _ in outcomes} == {200, 429}
    for error in refused:
        details = error["details"]
        assert (details["limit_usd"], details["scope"], details["period"]) == (
            repr(BUDGET_USD),
            scope,
            period,
        )
        assert details["resets_at"].endswith("T00:00:00Z")
        spent, reserved = float(details["spent_usd"]), float(details["reserved_usd"])
        assert 0 <= spent + reserved <= BUDGET_USD
    now = datetime.now(UTC)
    since = datetime(now.year, now.month, now.day if period == "day" else 1, tzinfo=UTC)
    if scope == "key":
        spent = await store.key_spent(account.key_id, since)
    else:
        user = await store.get_user_by_email(account.email)
        assert user is not None
        spent = await store.user_spent(user.id, since)
    assert 0 < spent <= BUDGET_USD * 10**12
    # Several times the budget was asked for: each call's worst case is at least 25 tokens.
    assert CALLS * 25 * 0.000002 >= 5 * BUDGET_USD
    for shim in shims:
        # Through Redis a core sends its releases within a round trip of the answer.
        async def settled(shim: httpx.AsyncClient = shim) -> bool:
            quota = (await shim.get(f"{DEV}/quota", headers=account.key_auth)).json()
            return bool(quota["budgets"][0]["reserved_usd"] == 0)

        await eventually(settled, "every reservation settled")
        quota = (await shim.get(f"{DEV}/quota", headers=account.key_auth)).json()
        [budget] = quota["budgets"]
        assert budget == {
            "scope": scope,
            "period": period,
            "limit_usd": BUDGET_USD,
            "spent_usd": usd(spent),
            "reserved_usd": 0.0,
            "resets_at": budget["resets_at"],
        }
