"""The usage breakdown over REST: the window's calls by model and by key, computed by the server,
adding up exactly to GET /usage's totals for the same window."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from aihub_core.app import Core
from aihub_core.store.base import UsageRecord
from tests.conftest import Account, make_account

DEV = "/v1/developer"
BREAKDOWN = f"{DEV}/usage/breakdown"


async def _chat(http: httpx.AsyncClient, account: Account, model: str) -> None:
    answer = await http.post(f"{DEV}/chat", json={"message": "hi", "model": model}, headers=account.key_auth)
    assert answer.status_code == 200, answer.text


def _sum(groups: list[dict[str, Any]], field: str) -> Decimal:
    # Each figure as printed: the exact decimal of its pico-USD (or count).
    return sum((Decimal(repr(g[field])) for g in groups), Decimal(0))


async def test_the_breakdown_adds_up_to_the_usage_totals(core: Core, http: httpx.AsyncClient) -> None:
    account = await make_account(http, "split@example.com", name="main key")
    assert await core.store.set_plan(account.email, "enterprise")
    other = await http.post(f"{DEV}/api-keys", json={"name": "ci"}, headers=account.jwt_auth)
    ci = Account(account.email, account.token, other.json()["key"], other.json()["id"])
    for model in ("x-ai/grok-beta", "x-ai/grok-beta", "gemini-1.5-flash"):
        await _chat(http, account, model)
    await _chat(http, ci, "gemini-1.5-flash")
    # Rows no chat here makes: a call without a key (a login token's), a refused one and one still
    # running (neither counted by /usage, nor here), one from long ago (outside the window).
    user = await core.store.get_user_by_email(account.email)
    assert user is not None
    now = datetime.now(UTC)
    row = UsageRecord(
        request_id="req_token",
        user_id=user.id,
        key_id=None,
        service="openrouter",
        model="x-ai/grok-beta",
        prompt_tokens=7,
        completion_tokens=3,
        cost_pico_usd=1_234_567,
        status="ok",
        usage_source="provider",
        created_at=now,
    )
    await core.store.record_usage(row)
    await core.store.record_usage(replace(row, request_id="req_refused", status="refused", key_id=ci.key_id))
    await core.store.reserve_usage(replace(row, request_id="req_pending", status="pending", key_id=ci.key_id))
    await core.store.record_usage(replace(row, request_id="req_old", created_at=now - timedelta(days=400)))

    for window in (
        {"period": "day"},
        {"period": "year"},
        {"start_date": "2020-01-01", "end_date": "2020-01-02"},
    ):
        usage = (await http.get(f"{DEV}/usage", params=window, headers=account.key_auth)).json()
        answer = await http.get(BREAKDOWN, params=window, headers=account.key_auth)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert [body[k] for k in ("period", "start_date", "end_date")] == [
            usage[k] for k in ("period", "start_date", "end_date")
        ]
        for groups in (body["by_model"], body["by_key"]):
            assert _sum(groups, "requests") == usage["total_requests"], window
            assert _sum(groups, "total_tokens") == usage["total_tokens"], window
            assert _sum(groups, "cost_usd") == Decimal(repr(usage["total_cost_usd"])), window
            for group in groups:
                assert group["total_tokens"] == group["prompt_tokens"] + group["completion_tokens"]

    body = (await http.get(BREAKDOWN, params={"period": "day"}, headers=account.jwt_auth)).json()
    by_model = {g["model"]: g["requests"] for g in body["by_model"]}
    assert by_model == {"x-ai/grok-beta": 3, "gemini-1.5-flash": 2}
    costs = [g["cost_usd"] for g in body["by_model"]]
    assert costs == sorted(costs, reverse=True)
    by_key = {(g["key_id"], g["key_name"]): g["requests"] for g in body["by_key"]}
    assert by_key == {(account.key_id, "main key"): 3, (ci.key_id, "ci"): 1, ("", ""): 1}
    assert all(g["key_id"] == "" and g["key_name"] == "" for g in body["by_model"])
    assert all(g["model"] == "" for g in body["by_key"])
    window = {"start_date": "2020-01-01", "end_date": "2020-01-02"}
    empty = (await http.get(BREAKDOWN, params=window, headers=account.key_auth)).json()
    assert empty["period"] == "custom" and empty["by_model"] == empty["by_key"] == []


async def test_a_bad_window_is_refused_as_get_usage_refuses_it(http: httpx.AsyncClient) -> None:
    account = await make_account(http, "bad@example.com")
    for params, parameter in (
        ({"period": "decade"}, "period"),
        ({"start_date": "yesterday"}, "start_date"),
        ({"end_date": "2026-01-01"}, "start_date"),
        ({"start_date": "2026-02-01", "end_date": "2026-01-01"}, "end_date"),
    ):
        answer = await http.get(BREAKDOWN, params=params, headers=account.key_auth)
        assert answer.status_code == 400, params
        assert answer.json()["error"]["details"]["parameter"] == parameter
    missing = await http.get(BREAKDOWN)
    assert missing.status_code == 401
