"""Key budgets in USD end to end: created with the key (REST and gRPC), listed, refused in the
documented shape, shown by /quota and WatchQuota, surviving a restart, and never overrun by a
burst of concurrent chats."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from aihub.v1 import key_service_pb2 as key_pb
from aihub.v1 import key_service_pb2_grpc as key_grpc
from aihub.v1 import usage_service_pb2 as usage_pb
from aihub.v1 import usage_service_pb2_grpc as usage_grpc
from aihub_core.app import Core
from aihub_core.pricing import usd
from tests.conftest import Account, isolated_settings, make_account, shim_client
from tests.e2e.budget_burst import BUDGET_USD, DEV, PLANS, budget_burst
from tests.e2e.completions import ledger
from tests.e2e.test_grpc import bearer, new_key
from tests.fake_clock import FakeClock
from tests.waiting import eventually


@pytest.fixture
def settings_dir(tmp_path: Path) -> Path:
    (tmp_path / "aihub.toml").write_text(PLANS, encoding="utf-8")
    return tmp_path


@pytest.fixture
async def core(settings_dir: Path, clock: FakeClock) -> AsyncIterator[Core]:
    settings = isolated_settings(settings_dir, config_path=settings_dir / "aihub.toml")
    running = await Core.start(settings, clock=clock)
    try:
        yield running
    finally:
        await running.stop(grace=0)


async def budgeted(http: httpx.AsyncClient, core: Core, limit_usd: float = BUDGET_USD) -> Account:
    account = await make_account(http, budget={"limit_usd": limit_usd, "period": "day"})
    assert await core.store.set_plan(account.email, "unlimited")
    return account


async def test_the_key_shows_its_budget_and_bad_budgets_are_refused(
    http: httpx.AsyncClient, core: Core
) -> None:
    account = await budgeted(http, core, 0.1)
    [key] = (await http.get(f"{DEV}/api-keys", headers=account.jwt_auth)).json()["api_keys"]
    assert key["budget"] == {"limit_usd": 0.1, "period": "day"}
    for budget, param in [
        ({"limit_usd": 0, "period": "day"}, "budget.limit_usd"),
        ({"limit_usd": 5, "period": "week"}, "budget.period"),
        ({"limit_usd": 2e6, "period": "month"}, "budget.limit_usd"),
    ]:
        answer = await http.post(
            f"{DEV}/api-keys", json={"name": "k", "budget": budget}, headers=account.jwt_auth
        )
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["details"]["parameter"] == param


async def test_a_call_whose_worst_case_exceeds_the_budget_is_a_400_naming_max_tokens(
    http: httpx.AsyncClient, core: Core
) -> None:
    account = await budgeted(http, core, 0.0001)  # 50 tokens of the default model
    answer = await http.post(
        f"{DEV}/chat", json={"message": "hi", "max_tokens": 60}, headers=account.key_auth
    )
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert (error["code"], error["details"]["parameter"]) == ("request_exceeds_budget", "max_tokens")
    assert error["details"]["limit_usd"] == "0.0001"
    quota = (await http.get(f"{DEV}/quota", headers=account.key_auth)).json()
    assert quota["quota_used"] == 0 and quota["budgets"][0]["spent_usd"] == 0.0


async def test_refusal_then_quota_over_grpc(core: Core, grpc_channel: grpc.aio.Channel) -> None:
    budget = key_pb.KeyBudget(limit_usd=0.0002, period="month")
    jwt, _ = await new_key(grpc_channel)
    keys = key_grpc.KeyServiceStub(grpc_channel)
    created = await keys.CreateApiKey(
        key_pb.CreateApiKeyRequest(name="b", budget=budget), metadata=bearer(jwt)
    )
    assert created.budget == budget
    key = created.key
    listed = await keys.ListApiKeys(key_pb.ListApiKeysRequest(), metadata=bearer(jwt))
    assert [k.budget for k in listed.api_keys if k.id == created.id] == [budget]
    async with shim_client(core, "grpc") as http:
        auth = {"Authorization": f"Bearer {key}"}
        first = await http.post(f"{DEV}/chat", json={"message": "hi", "max_tokens": 50}, headers=auth)
        assert first.status_code == 200, first.text
        second = await http.post(f"{DEV}/chat", json={"message": "hi", "max_tokens": 50}, headers=auth)
    assert second.status_code == 429
    error = second.json()["error"]
    assert error["code"] == "budget_exceeded"
    assert {k: error["details"][k] for k in ("limit_usd", "spent_usd", "reserved_usd")} == {
        "limit_usd": "0.0002",
        "spent_usd": "0.00011",
        "reserved_usd": "0.0",
    }
    assert int(second.headers["retry-after"]) > 0
    usage = usage_grpc.UsageServiceStub(grpc_channel)
    quota = await usage.GetQuota(usage_pb.GetQuotaRequest(), metadata=bearer(key))
    [shown] = quota.budgets
    assert (shown.scope, shown.period, shown.limit_usd, shown.spent_usd, shown.reserved_usd) == (
        "key",
        "month",
        0.0002,
        0.00011,
        0.0,
    )
    watch = usage.WatchQuota(usage_pb.WatchQuotaRequest(), metadata=bearer(key))
    snapshot = await watch.read()
    watch.cancel()
    assert isinstance(snapshot, usage_pb.WatchQuotaResponse)
    assert list(snapshot.budgets) == list(quota.budgets)


async def test_the_spend_survives_a_restart(settings_dir: Path, clock: FakeClock) -> None:
    settings = isolated_settings(settings_dir, config_path=settings_dir / "aihub.toml")
    first = await Core.start(settings, clock=clock)
    try:
        async with shim_client(first, "in-process") as http:
            account = await budgeted(http, first, 0.0003)
            for _ in range(2):
                answer = await http.post(
                    f"{DEV}/chat", json={"message": "hi", "max_tokens": 50}, headers=account.key_auth
                )
                assert answer.status_code == 200
    finally:
        await first.stop(grace=0)
    second = await Core.start(settings, clock=clock)
    try:
        async with shim_client(second, "in-process") as http:
            quota = (await http.get(f"{DEV}/quota", headers=account.key_auth)).json()
            assert quota["budgets"][0]["spent_usd"] == 0.00022
            answer = await http.post(
                f"{DEV}/chat", json={"message": "hi", "max_tokens": 50}, headers=account.key_auth
            )
            assert answer.status_code == 429 and answer.json()["error"]["code"] == "budget_exceeded"
    finally:
        await second.stop(grace=0)


async def test_a_burst_of_chats_never_overruns_the_budget(
    http: httpx.AsyncClient, core: Core, grpc_channel: grpc.aio.Channel
) -> None:
    account = await budgeted(http, core)
    await budget_burst([http], account, core.store, channels=[grpc_channel])


async def test_a_burst_of_chats_never_overruns_the_plan_budget(http: httpx.AsyncClient, core: Core) -> None:
    account = await make_account(http)
    assert await core.store.set_plan(account.email, "capped")
    await budget_burst([http], account, core.store, scope="plan", period="month")
    jwt_quota = (await http.get(f"{DEV}/quota", headers=account.jwt_auth)).json()
    assert [b["scope"] for b in jwt_quota["budgets"]] == ["plan"]


@pytest.mark.parametrize("scenario", ["drop", "midstream-error", "stall"])
async def test_a_cut_off_stream_is_charged_what_it_delivered(
    http: httpx.AsyncClient, core: Core, scenario: str
) -> None:
    account = await budgeted(http, core, 0.01)
    core.upstreams.simulators["openrouter"].scenario = scenario
    body = {"message": "Tell me a story about a gateway", "stream": True, "max_tokens": 200}
    async with http.stream("POST", f"{DEV}/chat", json=body, headers=account.key_auth) as response:
        async for line in response.aiter_lines():
            if scenario == "stall" and '"content"' in line:
                break  # the client goes away

    async def budget() -> dict[str, Any]:
        figures: dict[str, Any] = (await http.get(f"{DEV}/quota", headers=account.key_auth)).json()[
            "budgets"
        ][0]
        return figures

    async def settled() -> bool:
        return bool((await budget())["reserved_usd"] == 0.0)

    await eventually(settled, "the cut-off call settled")
    [row] = ledger(core)
    assert row["status"] in ("error", "cancelled") and 0 < row["completion_tokens"] < 200
    assert (await budget())["spent_usd"] == usd(int(row["cost_pico_usd"]))


async def test_a_burst_of_chats_never_overruns_the_users_budget(http: httpx.AsyncClient, core: Core) -> None:
    account = await make_account(http)
    assert await core.store.set_plan(account.email, "unlimited")
    assert await core.store.set_user_budget(account.email, int(BUDGET_USD * 10**12), "month")
    await budget_burst([http], account, core.store, scope="user", period="month")
