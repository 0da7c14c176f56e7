"""The operators' other routes over REST: an account's budget set and removed, the plans, the
gateway's usage per day with its top models, and the services with their breakers."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from aihub_core.app import Core
from tests.conftest import Account, isolated_settings, make_account, shim_client
from tests.fake_clock import FakeClock


async def _admin(http: httpx.AsyncClient, core: Core) -> Account:
    ops = await make_account(http, "ops@example.com")
    assert await core.store.set_role("ops@example.com", "admin")
    return ops


async def test_an_admin_sets_and_removes_a_users_budget(http: httpx.AsyncClient, core: Core) -> None:
    ops = await _admin(http, core)
    dev = await make_account(http, "dev@example.com")
    users = (await http.get("/v1/admin/users", headers=ops.jwt_auth)).json()["users"]
    dev_id = next(u["id"] for u in users if u["email"] == "dev@example.com")
    assert next(u for u in users if u["id"] == dev_id)["budget"] is None

    url = f"/v1/admin/users/{dev_id}/budget"
    set_ = await http.post(url, json={"limit_usd": 2.5, "period": "day"}, headers=ops.jwt_auth)
    assert set_.status_code == 200, set_.text
    assert set_.json()["user"]["budget"] == {"limit_usd": 2.5, "period": "day"}
    assert (await core.store.get_user(dev_id)).budget_period == "day"  # type: ignore[union-attr]
    # The developer's own quota report counts against it at once, as the CLI's does.
    quota = (await http.get("/v1/developer/quota", headers=dev.key_auth)).json()
    assert any(b["scope"] == "user" and b["limit_usd"] == 2.5 for b in quota["budgets"]), quota

    monthly = await http.post(url, json={"limit_usd": 7}, headers=ops.jwt_auth)
    assert monthly.json()["user"]["budget"] == {"limit_usd": 7.0, "period": "month"}
    removed = await http.post(url, json={"limit_usd": 0}, headers=ops.jwt_auth)
    assert removed.status_code == 200 and removed.json()["user"]["budget"] is None
    assert (await core.store.get_user(dev_id)).budget_pico_usd is None  # type: ignore[union-attr]

    bad = await http.post(url, json={"limit_usd": 1, "period": "week"}, headers=ops.jwt_auth)
    assert bad.status_code == 400 and bad.json()["error"]["details"]["parameter"] == "period"
    negative = await http.post(url, json={"limit_usd": -1}, headers=ops.jwt_auth)
    assert negative.status_code == 400
    # A body without the amount is refused, never read as 0 (which removes the budget).
    assert (await http.post(url, json={"limit_usd": 3}, headers=ops.jwt_auth)).status_code == 200
    for body in ({}, {"period": "day"}):
        missing = await http.post(url, json=body, headers=ops.jwt_auth)
        assert missing.status_code == 400, missing.text
        error = missing.json()["error"]
        assert (error["code"], error["details"]["parameter"]) == ("missing_parameter", "limit_usd")
    assert (await core.store.get_user(dev_id)).budget_pico_usd == 3 * 10**12  # type: ignore[union-attr]
    nobody = await http.post("/v1/admin/users/user_none/budget", json={"limit_usd": 1}, headers=ops.jwt_auth)
    assert nobody.status_code == 404
    own = await http.post(url, json={"limit_usd": 100}, headers=dev.jwt_auth)
    assert own.status_code == 403 and own.json()["error"]["code"] == "admin_only"


async def test_an_admin_lists_the_plans(http: httpx.AsyncClient, core: Core) -> None:
    ops = await _admin(http, core)
    plans = await http.get("/v1/admin/plans", headers=ops.jwt_auth)
    assert plans.status_code == 200, plans.text
    by_name = {p["name"]: p for p in plans.json()["plans"]}
    assert list(by_name)[:3] == ["free", "professional", "enterprise"]
    assert by_name["free"]["builtin"] is True
    assert by_name["professional"]["requests_per_minute"] == 60
    assert by_name["enterprise"]["monthly_requests"] == 100_000
    dev = await make_account(http, "dev@example.com")
    assert (await http.get("/v1/admin/plans", headers=dev.jwt_auth)).status_code == 403


async def test_the_plans_include_the_operators_with_their_budgets(tmp_path: Path, clock: FakeClock) -> None:
    config = tmp_path / "aihub.toml"
    config.write_text(
        "[plans.team]\nrequests_per_minute = 30\ntokens_per_minute = 9000\nconcurrent_requests = 4\n"
        "monthly_requests = 5000\nmonthly_budget_usd = 25\n"
    )
    core = await Core.start(isolated_settings(tmp_path, config_path=config), clock=clock)
    try:
        async with shim_client(core, "in-process") as http:
            ops = await _admin(http, core)
            plans = (await http.get("/v1/admin/plans", headers=ops.jwt_auth)).json()["plans"]
            assert [p["name"] for p in plans] == ["free", "professional", "enterprise", "team"]
            assert plans[-1] == {
                "name": "team",
                "builtin": False,
                "requests_per_minute": 30,
                "tokens_per_minute": 9000,
                "concurrent_requests": 4,
                "monthly_requests": 5000,
                "monthly_budget_usd": 25.0,
            }
            users = (await http.get("/v1/admin/users", headers=ops.jwt_auth)).json()["users"]
            moved = await http.post(
                f"/v1/admin/users/{users[0]['id']}/plan", json={"plan": "team"}, headers=ops.jwt_auth
            )
            assert moved.json()["user"]["plan_monthly_budget_usd"] == 25.0
            assert users[0]["plan_monthly_budget_usd"] == 0
    finally:
        await core.stop(grace=0)


async def test_the_overview_sums_every_users_days_and_ranks_the_models(
    http: httpx.AsyncClient, core: Core
) -> None:
    ops = await _admin(http, core)
    dev = await make_account(http, "dev@example.com")
    for model, n in (("x-ai/grok-beta", 2), ("gemini-1.5-flash", 1)):
        for i in range(n):
            body = {"message": f"hi {i}", "model": model}
            chat = await http.post("/v1/developer/chat", json=body, headers=dev.key_auth)
            assert chat.status_code == 200, chat.text
    chat = await http.post("/v1/developer/chat", json={"message": "mine"}, headers=ops.key_auth)
    assert chat.status_code == 200, chat.text

    overview = await http.get("/v1/admin/overview", headers=ops.jwt_auth)
    assert overview.status_code == 200, overview.text
    body = overview.json()
    today = datetime.now(UTC).date()
    assert (body["start_date"], body["end_date"]) == (
        (today - timedelta(days=29)).isoformat(),
        today.isoformat(),
    )
    assert [d["date"] for d in body["daily"]] == [today.isoformat()]
    assert body["total_requests"] == body["daily"][0]["requests"] == 4
    dev_usage = (await http.get("/v1/developer/usage", headers=dev.key_auth)).json()
    ops_usage = (await http.get("/v1/developer/usage", headers=ops.key_auth)).json()
    both = dev_usage["total_cost_usd"] + ops_usage["total_cost_usd"]
    assert body["total_cost_usd"] > 0 and abs(body["total_cost_usd"] - both) < 1e-12
    top = body["top_models"]
    assert sum(m["requests"] for m in top) == 4
    assert [m["cost_usd"] for m in top] == sorted((m["cost_usd"] for m in top), reverse=True)
    assert {(m["service"], m["model"]) for m in top} >= {
        ("gemini", "gemini-1.5-flash"),
        ("openrouter", "x-ai/grok-beta"),
    }
    one = await http.get("/v1/admin/overview", params={"top_models": 1}, headers=ops.jwt_auth)
    assert one.json()["top_models"] == top[:1]
    for bad in ("101", "-1"):
        refused = await http.get("/v1/admin/overview", params={"top_models": bad}, headers=ops.jwt_auth)
        assert refused.status_code == 400 and refused.json()["error"]["details"]["parameter"] == "top_models"

    past = await http.get(
        "/v1/admin/overview",
        params={"start_date": "2026-01-01", "end_date": "2026-01-31"},
        headers=ops.jwt_auth,
    )
    assert past.json()["start_date"] == "2026-01-01" and past.json()["daily"] == []
    backwards = await http.get(
        "/v1/admin/overview",
        params={"start_date": "2026-02-01", "end_date": "2026-01-31"},
        headers=ops.jwt_auth,
    )
    assert backwards.status_code == 400
    assert (await http.get("/v1/admin/overview", headers=dev.jwt_auth)).status_code == 403


async def test_the_services_report_simulation_and_this_processs_breakers(
    http: httpx.AsyncClient, core: Core
) -> None:
    ops = await _admin(http, core)
    chat = await http.post("/v1/developer/chat", json={"message": "hi"}, headers=ops.key_auth)
    assert chat.status_code == 200, chat.text
    failing = core.router.breaker("gemini", "gemini-2.5-pro")
    for _ in range(core.settings.breaker.failure_threshold):
        failing.record_failure()

    found = await http.get("/v1/admin/services", headers=ops.jwt_auth)
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["process"].endswith(f":{os.getpid()}")
    services = {s["name"]: s for s in body["services"]}
    assert services["openrouter"]["simulated"] is True and services["openrouter"]["is_default"] is True
    assert services["openrouter"]["status"] == "healthy"
    assert [b["state"] for b in services["openrouter"]["breakers"]] == ["closed"]
    gemini = services["gemini"]
    assert gemini["status"] == "down"
    assert gemini["breakers"][0]["model"] == "gemini-2.5-pro" and gemini["breakers"][0]["state"] == "open"
    assert 0 < gemini["breakers"][0]["retry_in_seconds"] <= core.settings.breaker.cooldown
    dev = await make_account(http, "dev@example.com")
    assert (await http.get("/v1/admin/services", headers=dev.jwt_auth)).status_code == 403
