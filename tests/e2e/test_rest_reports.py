"""Models, services, usage, quota, permissions and rate-limit headers over REST."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx

from tests.conftest import Account, make_account
from tests.fake_clock import FakeClock

DEV = "/v1/developer"


async def test_models_filter_by_service_and_category(http: httpx.AsyncClient, account: Account) -> None:
    everything = (await http.get(f"{DEV}/models", headers=account.key_auth)).json()
    assert everything["total_count"] == len(everything["models"]) >= 20
    grok = next(m for m in everything["models"] if m["id"] == "x-ai/grok-beta")
    assert grok == {
        "id": "x-ai/grok-beta",
        "name": "Grok Beta",
        "description": "X.AI的最新对话模型",
        "context_length": 131072,
        "pricing": {"prompt": 0.000002, "completion": 0.000002},
        "capabilities": ["chat", "multimodal"],
        "service": "openrouter",
        "category": "chat",
        "aliases": ["grok-beta"],
    }
    gemini = (await http.get(f"{DEV}/models", params={"service": "gemini"}, headers=account.key_auth)).json()
    assert gemini["service"] == "gemini" and {m["service"] for m in gemini["models"]} == {"gemini"}
    embedding = (
        await http.get(f"{DEV}/models", params={"category": "embedding"}, headers=account.key_auth)
    ).json()
    assert [m["id"] for m in embedding["models"]] == [
        "openai/text-embedding-3-small",
        "gemini-embedding-001",
        "text-embedding-004",
    ]
    bad = await http.get(f"{DEV}/models", params={"category": "vision"}, headers=account.key_auth)
    assert bad.status_code == 400 and bad.json()["error"]["details"]["parameter"] == "category"


async def test_services_as_in_the_spec_and_marked_simulated(
    http: httpx.AsyncClient, account: Account
) -> None:
    data = (await http.get(f"{DEV}/services", headers=account.key_auth)).json()
    assert data["services"] == ["openrouter", "gemini"] and data["default"] == "openrouter"
    assert data["capabilities"] == {
        "openrouter": {
            "text_generation": True,
            "streaming": True,
            "multi_model": True,
            "cost_efficient": True,
        },
        "gemini": {"text_generation": True, "streaming": True, "multimodal": True},
    }
    assert data["simulated"] == {"openrouter": True, "gemini": True}


async def test_usage_totals_equal_the_sum_of_response_costs(
    http: httpx.AsyncClient, account: Account
) -> None:
    costs, tokens = [], 0
    for service in ("openrouter", "gemini", "openrouter"):
        usage = (
            await http.post(
                f"{DEV}/chat", json={"message": "hi", "service": service}, headers=account.key_auth
            )
        ).json()["usage"]
        costs.append(usage["estimated_cost_usd"])
        tokens += usage["total_tokens"]
    report = (await http.get(f"{DEV}/usage", headers=account.key_auth)).json()
    assert report["period"] == "month"
    assert report["total_requests"] == 3 and report["total_tokens"] == tokens
    # Exactly the sum of the answers' costs (each the double nearest its exact decimal).
    assert report["total_cost_usd"] == float(sum(Decimal(repr(cost)) for cost in costs))
    assert (report["quota_limit"], report["quota_used"], report["quota_remaining"]) == (1000, 3, 997)
    today = datetime.now(UTC).date().isoformat()
    assert report["daily_breakdown"][-1] == {
        "date": today,
        "requests": 3,
        "tokens": tokens,
        "cost_usd": report["total_cost_usd"],
    }
    assert report["daily_breakdown"][0]["date"] == today[:8] + "01"
    ranged = (
        await http.get(
            f"{DEV}/usage", params={"start_date": today, "end_date": today}, headers=account.key_auth
        )
    ).json()
    assert ranged["period"] == "custom" and ranged["total_requests"] == 3
    bad = await http.get(f"{DEV}/usage", params={"start_date": "2025-99-01"}, headers=account.key_auth)
    assert bad.status_code == 400 and bad.json()["error"]["details"]["parameter"] == "start_date"


async def test_quota_reports_the_free_plan(http: httpx.AsyncClient, account: Account) -> None:
    quota = (await http.get(f"{DEV}/quota", headers=account.key_auth)).json()
    now = datetime.now(UTC)
    reset = f"{now.year + (now.month == 12)}-{now.month % 12 + 1:02d}-01T00:00:00Z"
    assert quota == {
        "plan": "free",
        "quota_limit": 1000,
        "quota_used": 0,
        "quota_remaining": 1000,
        "reset_date": reset,
        "rate_limit": {"requests_per_minute": 20, "tokens_per_minute": 5000, "concurrent_requests": 3},
        "budgets": [],  # no budget on the key, the user or the free plan
    }


async def test_permissions_are_enforced_per_endpoint(http: httpx.AsyncClient) -> None:
    account = await make_account(http, permissions=["models"])
    assert (await http.get(f"{DEV}/models", headers=account.key_auth)).status_code == 200
    for method, path in (
        ("POST", f"{DEV}/chat"),
        ("POST", f"{DEV}/chat/stream"),
        ("GET", f"{DEV}/usage"),
        ("GET", f"{DEV}/quota"),
    ):
        answer = await http.request(
            method, path, json={"message": "hi"} if method == "POST" else None, headers=account.key_auth
        )
        assert answer.status_code == 403, path
        assert answer.json()["error"]["type"] == "permission_error"


async def test_rate_limit_headers_and_429(http: httpx.AsyncClient, clock: FakeClock) -> None:
    account = await make_account(http, rate_limit={"requests_per_minute": 2})
    clock.clear_of_minute_boundary()
    hi = {"message": "hi"}
    first = await http.post(f"{DEV}/chat", json=hi, headers=account.key_auth)
    second = await http.post(f"{DEV}/chat", json=hi, headers=account.key_auth)
    assert (first.headers["x-ratelimit-limit"], first.headers["x-ratelimit-remaining"]) == ("2", "1")
    assert second.headers["x-ratelimit-remaining"] == "0"
    reset = int(first.headers["x-ratelimit-reset"])
    assert clock.time() < reset <= clock.time() + 61
    refused = await http.post(f"{DEV}/chat", json={"message": "hi"}, headers=account.key_auth)
    assert refused.status_code == 429
    assert refused.json()["error"]["type"] == "rate_limit_error"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["x-ratelimit-remaining"] == "0" and refused.headers["x-ratelimit-limit"] == "2"
    usage = await http.get(f"{DEV}/usage", headers=(await make_account(http, "x@example.com")).key_auth)
    assert usage.status_code == 200


async def test_every_response_has_a_unique_request_id(http: httpx.AsyncClient) -> None:
    answers = [await http.get("/healthz"), await http.get("/nope"), await http.get(f"{DEV}/quota")]
    ids = [a.headers["x-request-id"] for a in answers]
    assert len(set(ids)) == 3 and all(i.startswith("req_") for i in ids)
    assert answers[0].json() == {"status": "ok"}
    assert answers[1].status_code == 404 and answers[1].json()["request_id"] == ids[1]
    assert answers[2].json()["request_id"] == ids[2]


async def test_openapi_metrics_and_docs(http: httpx.AsyncClient) -> None:
    spec = (await http.get("/openapi.json")).json()
    assert {"/v1/developer/chat", "/v1/developer/chat/stream", "/v1/auth/register"} <= set(spec["paths"])
    assert "text/html" in (await http.get("/docs")).headers["content-type"]
    metrics = await http.get("/metrics")
    assert metrics.status_code == 200 and "aihub" in metrics.text


async def test_reports_take_the_login_token_as_well_as_a_key(
    http: httpx.AsyncClient, account: Account
) -> None:
    # The web console holds only the login token: it reads the account's reports with it. Such
    # reads count against the user's read limit, as a key's reads count against the key's: never
    # against the plan's minute that the keys' model calls share.
    for path in ("/models", "/services", "/usage", "/usage/logs", "/quota"):
        with_key = await http.get(f"{DEV}{path}", headers=account.key_auth)
        with_token = await http.get(f"{DEV}{path}", headers=account.jwt_auth)
        assert with_token.status_code == with_key.status_code == 200, (path, with_token.text)
        assert with_key.headers["X-RateLimit-Limit"] == with_token.headers["X-RateLimit-Limit"] == "600"
    for _ in range(25):  # more than the free plan's minute
        assert (await http.get(f"{DEV}/quota", headers=account.jwt_auth)).status_code == 200
    after = await http.get(f"{DEV}/quota", headers=account.key_auth)
    assert after.status_code == 200 and after.headers["X-RateLimit-Remaining"] == str(600 - 6)
    chat = await http.post(f"{DEV}/chat", json={"message": "hi"}, headers=account.key_auth)
    assert chat.status_code == 200, chat.text
    assert (chat.headers["X-RateLimit-Limit"], chat.headers["X-RateLimit-Remaining"]) == ("20", "19")
    quota = (await http.get(f"{DEV}/quota", headers=account.jwt_auth)).json()
    assert quota["plan"] == "free"
    forged = account.token[:-4] + ("AAAA" if not account.token.endswith("AAAA") else "BBBB")
    refused = await http.get(f"{DEV}/usage", headers={"Authorization": f"Bearer {forged}"})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_token"
    # Key management still takes the login token only.
    keys = await http.get(f"{DEV}/api-keys", headers=account.key_auth)
    assert keys.status_code == 401
