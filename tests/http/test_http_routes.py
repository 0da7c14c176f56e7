"""Every route: the status, the exact JSON shape, and the request the core received."""

from __future__ import annotations

import httpx

from tests.http.fakes import FakeCore

KEY = {"Authorization": "Bearer ai-hub-xxx-xxx-xxx"}


async def test_register_is_201_with_an_rfc3339_expiry(api: httpx.AsyncClient, fake: FakeCore) -> None:
    response = await api.post("/v1/auth/register", json={"email": "a@b.dev", "password": "pw-12345"})
    assert response.status_code == 201
    assert response.json() == {
        "user_id": "user_1",
        "email": "a@b.dev",
        "token": "jwt",
        "expires_at": "2025-10-06T10:00:00Z",
        "role": "user",
    }
    assert fake.last("Register").request.password == "pw-12345"


async def test_login_keeps_fractional_seconds(api: httpx.AsyncClient, fake: FakeCore) -> None:
    response = await api.post("/v1/auth/login", json={"email": "a@b.dev", "password": "pw"})
    assert response.status_code == 200
    assert response.json()["expires_at"] == "2025-10-06T10:00:00.500Z"
    assert fake.last("Login").request.email == "a@b.dev"


async def test_chat_shape_and_request_fields(api: httpx.AsyncClient, fake: FakeCore) -> None:
    body = {
        "message": "Hello, AI Hub!",
        "model": "x-ai/grok-beta",
        "service": "openrouter",
        "max_tokens": 150,
        "temperature": 0.7,
        "stream": False,
        "session_id": "session_123",
        "images": ["aGVsbG8="],
        "context": {"system_prompt": "你是一个专业的AI助手"},
    }
    response = await api.post("/v1/developer/chat", json=body, headers=KEY)
    assert response.status_code == 200
    assert response.json() == {
        "message": "AI助手的回复内容",
        "model": "openrouter:x-ai/grok-beta",
        "session_id": "session_123",
        "usage": {
            "prompt_tokens": 25,
            "completion_tokens": 150,
            "total_tokens": 175,
            "estimated_cost_usd": 0.00035,
        },
        "metadata": {
            "response_time_ms": 1250,
            "service_used": "openrouter",
            "simulated": False,
            "finish_reason": "stop",
            "request_id": "req_x",
        },
    }
    sent = fake.last("Chat").request
    assert (sent.message, sent.max_tokens, sent.temperature, sent.images) == (
        "Hello, AI Hub!",
        150,
        0.7,
        ["aGVsbG8="],
    )
    assert sent.context.system_prompt == "你是一个专业的AI助手"


async def test_chat_leaves_unsent_optionals_unset(api: httpx.AsyncClient, fake: FakeCore) -> None:
    response = await api.post("/v1/developer/chat", json={"message": "hi", "max_tokens": None}, headers=KEY)
    assert response.status_code == 200
    sent = fake.last("Chat").request
    assert not sent.HasField("max_tokens")
    assert not sent.HasField("temperature")
    assert not sent.HasField("context")


async def test_models_maps_query_to_request_and_int64_to_numbers(
    api: httpx.AsyncClient, fake: FakeCore
) -> None:
    response = await api.get("/v1/developer/models?service=openrouter&category=chat&page_size=5", headers=KEY)
    assert response.status_code == 200
    body = response.json()
    assert body["service"] == "openrouter"
    assert body["total_count"] == 23
    assert body["next_page_token"] == ""
    assert body["models"][0] == {
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
    sent = fake.last("ListModels").request
    assert (sent.service, sent.category, sent.page_size) == ("openrouter", "chat", 5)


async def test_services_show_only_claimed_capabilities(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/developer/services", headers=KEY)
    assert response.status_code == 200
    assert response.json() == {
        "services": ["openrouter", "gemini"],
        "default": "openrouter",
        "capabilities": {
            "openrouter": {
                "text_generation": True,
                "streaming": True,
                "multi_model": True,
                "cost_efficient": True,
            },
            "gemini": {"text_generation": True, "streaming": True, "multimodal": True},
        },
        "simulated": {"openrouter": True, "gemini": False},
    }


async def test_usage(api: httpx.AsyncClient, fake: FakeCore) -> None:
    response = await api.get(
        "/v1/developer/usage",
        params={"period": "month", "start_date": "2025-09-01", "end_date": "2025-09-30"},
        headers=KEY,
    )
    assert response.status_code == 200
    assert response.json() == {
        "period": "month",
        "start_date": "2025-09-01",
        "end_date": "2025-09-30",
        "total_requests": 1250,
        "total_tokens": 125000,
        "total_cost_usd": 2.35,
        "quota_limit": 10000,
        "quota_used": 1250,
        "quota_remaining": 8750,
        "daily_breakdown": [{"date": "2025-09-01", "requests": 45, "tokens": 4500, "cost_usd": 0.09}],
    }
    sent = fake.last("GetUsage").request
    assert (sent.period, sent.start_date, sent.end_date) == ("month", "2025-09-01", "2025-09-30")


async def test_usage_breakdown(api: httpx.AsyncClient, fake: FakeCore) -> None:
    response = await api.get("/v1/developer/usage/breakdown", params={"period": "week"}, headers=KEY)
    assert response.status_code == 200
    figures = {"requests": 1250, "prompt_tokens": 100000, "completion_tokens": 25000, "total_tokens": 125000}
    assert response.json() == {
        "period": "month",
        "start_date": "2025-09-01",
        "end_date": "2025-09-30",
        "by_model": [{"model": "x-ai/grok-beta", "key_id": "", "key_name": "", **figures, "cost_usd": 2.35}],
        "by_key": [{"model": "", "key_id": "key_123", "key_name": "My App Key", **figures, "cost_usd": 2.35}],
    }
    sent = fake.last("GetUsageBreakdown").request
    assert (sent.period, sent.start_date, sent.end_date) == ("week", "", "")


async def test_quota(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/developer/quota", headers=KEY)
    assert response.status_code == 200
    assert response.json() == {
        "plan": "professional",
        "quota_limit": 10000,
        "quota_used": 1250,
        "quota_remaining": 8750,
        "reset_date": "2025-10-01T00:00:00Z",
        "rate_limit": {"requests_per_minute": 60, "tokens_per_minute": 15000, "concurrent_requests": 10},
        "budgets": [],
    }


async def test_create_api_key_is_201_with_null_last_used(api: httpx.AsyncClient, fake: FakeCore) -> None:
    body = {
        "name": "My App Key",
        "permissions": ["chat", "models", "usage"],
        "rate_limit": {"requests_per_minute": 30},
    }
    response = await api.post("/v1/developer/api-keys", json=body, headers={"Authorization": "Bearer jwt"})
    assert response.status_code == 201
    assert response.json() == {
        "id": "key_123",
        "name": "My App Key",
        "key": "ai-hub-xxx-xxx-xxx",
        "created_at": "2025-09-29T10:00:00Z",
        "permissions": ["chat", "models", "usage"],
        "last_used": None,
        "rate_limit": None,
        "expires_at": None,
        "rotated_at": None,
        "budget": None,
    }
    sent = fake.last("CreateApiKey").request
    assert sent.rate_limit.requests_per_minute == 30
    assert list(sent.permissions) == ["chat", "models", "usage"]


async def test_create_api_key_without_content_type_as_in_the_spec_example(api: httpx.AsyncClient) -> None:
    # The spec's curl example sends `-d '{"name": ...}'`, i.e. form-encoded content type.
    response = await api.post(
        "/v1/developer/api-keys",
        content=b'{"name": "My App Key"}',
        headers={"Authorization": "Bearer jwt", "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 201


async def test_list_api_keys(api: httpx.AsyncClient, fake: FakeCore) -> None:
    response = await api.get(
        "/v1/developer/api-keys?page_size=10&page_token=abc", headers={"Authorization": "Bearer jwt"}
    )
    assert response.status_code == 200
    assert response.json() == {
        "api_keys": [
            {
                "id": "key_123",
                "name": "My App Key",
                "prefix": "ai-hub-xx",
                "created_at": "2025-09-29T10:00:00Z",
                "permissions": ["chat"],
                "last_used": "2025-09-30T08:00:00Z",
                "rate_limit": {"requests_per_minute": 30},
                "expires_at": None,
                "rotated_at": None,
                "budget": None,
            }
        ],
        "total_count": 1,
        "next_page_token": "",
    }
    sent = fake.last("ListApiKeys").request
    assert (sent.page_size, sent.page_token) == (10, "abc")


async def test_delete_api_key_takes_the_id_from_the_path(api: httpx.AsyncClient, fake: FakeCore) -> None:
    response = await api.delete("/v1/developer/api-keys/key_123", headers={"Authorization": "Bearer jwt"})
    assert response.status_code == 200
    assert response.json() == {"id": "key_123", "deleted": True}
    assert fake.last("DeleteApiKey").request.key_id == "key_123"


async def test_empty_post_body_counts_as_an_empty_object(api: httpx.AsyncClient, fake: FakeCore) -> None:
    response = await api.post("/v1/auth/login")
    assert response.status_code == 200
    assert fake.last("Login").request.email == ""


async def test_head_is_answered_like_get(api: httpx.AsyncClient) -> None:
    response = await api.head("/v1/developer/quota", headers=KEY)
    assert response.status_code == 200
    assert response.content == b""
