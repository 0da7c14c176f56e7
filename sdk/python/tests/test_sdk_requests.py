"""What the sync client sends for each call and how it reads the answers."""

from __future__ import annotations

import base64
import datetime
import uuid

import httpx
import pytest
from ai_hub_fakes import BASE_URL, FakeGateway, reply

from ai_hub import AIHub, APIError, ChatResponse, RateLimit, Usage, UsageGroup, __version__

CHAT_ANSWER = {
    "message": "Hi there!",
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
        "simulated": True,
        "finish_reason": "stop",
        "request_id": "req_1",
    },
}
RATE_HEADERS = {"x-ratelimit-limit": "60", "x-ratelimit-remaining": "59", "x-ratelimit-reset": "1640995200"}


def test_chat_create_sends_the_spec_body_and_reads_the_answer(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(reply(200, CHAT_ANSWER, RATE_HEADERS))

    response = client.chat.create(message="Hello, world!", model="x-ai/grok-beta", max_tokens=150)

    request = gateway.last
    assert request.method == "POST"
    assert str(request.url) == f"{BASE_URL}/v1/developer/chat"
    assert request.headers["authorization"] == "Bearer ai-hub-test-key"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"
    assert request.headers["user-agent"] == f"ai-hub-python/{__version__}"
    assert uuid.UUID(request.headers["idempotency-key"])
    assert gateway.body() == {"message": "Hello, world!", "model": "x-ai/grok-beta", "max_tokens": 150}
    assert isinstance(response, ChatResponse)
    assert response.message == "Hi there!"
    assert response.model == "openrouter:x-ai/grok-beta"
    assert response.session_id == "session_123"
    assert response.usage == Usage(25, 150, 175, 0.00035)
    assert response.metadata.service_used == "openrouter"
    assert response.metadata.response_time_ms == 1250
    assert response.metadata.simulated is True
    assert response.metadata.finish_reason == "stop"
    assert response.request_id == "req_1"
    assert response.rate_limit == RateLimit(limit=60, remaining=59, reset=1640995200)
    assert response.raw["message"] == "Hi there!"


def test_chat_create_sends_every_option(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(reply(200, CHAT_ANSWER))

    client.chat.create(
        "Describe this",
        model="gemini-1.5-pro",
        service="gemini",
        max_tokens=10,
        temperature=0.2,
        session_id="session_9",
        images=["aGVsbG8=", b"\x89PNG"],
        system_prompt="Be brief",
        idempotency_key="idem-1",
    )

    assert gateway.body() == {
        "message": "Describe this",
        "model": "gemini-1.5-pro",
        "service": "gemini",
        "max_tokens": 10,
        "temperature": 0.2,
        "session_id": "session_9",
        "images": ["aGVsbG8=", base64.b64encode(b"\x89PNG").decode()],
        "context": {"system_prompt": "Be brief"},
    }
    assert gateway.last.headers["idempotency-key"] == "idem-1"


def test_each_chat_call_gets_its_own_idempotency_key(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(reply(200, CHAT_ANSWER), reply(200, CHAT_ANSWER))
    client.chat.create("one")
    client.chat.create("two")
    keys = {r.headers["idempotency-key"] for r in gateway.requests}
    assert len(keys) == 2


def test_answers_without_rate_limit_headers_have_none(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(reply(200, {"message": "ok", "model": "m"}))
    response = client.chat.create("hi")
    assert response.rate_limit is None
    assert response.session_id is None
    assert response.usage == Usage()


def test_models_list(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(
        reply(
            200,
            {
                "service": "openrouter",
                "models": [
                    {
                        "id": "x-ai/grok-beta",
                        "name": "Grok Beta",
                        "description": "X.AI",
                        "context_length": 131072,
                        "pricing": {"prompt": 0.000002, "completion": 0.000002},
                        "capabilities": ["chat", "multimodal"],
                    }
                ],
                "total_count": 23,
            },
        )
    )

    models = client.models.list(service="openrouter", category="chat")

    assert gateway.last.method == "GET"
    assert gateway.last.url.path == "/v1/developer/models"
    assert dict(gateway.last.url.params) == {"service": "openrouter", "category": "chat"}
    assert "idempotency-key" not in gateway.last.headers
    assert models.total_count == 23
    assert models.service == "openrouter"
    [model] = list(models)
    assert (model.id, model.name, model.context_length) == ("x-ai/grok-beta", "Grok Beta", 131072)
    assert model.pricing.prompt == 0.000002
    assert model.capabilities == ("chat", "multimodal")


def test_models_list_without_filters_sends_no_query(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(reply(200, {"models": []}))
    models = client.models.list()
    assert gateway.last.url.query == b""
    assert len(models) == 0
    assert models.total_count == 0


def test_services_list(client: AIHub, gateway: FakeGateway) -> None:
    body = {
        "services": ["openrouter", "gemini"],
        "default": "openrouter",
        "capabilities": {"gemini": {"text_generation": True, "multimodal": True}},
    }
    gateway.queue(reply(200, body))
    services = client.services.list()
    assert gateway.last.url.path == "/v1/developer/services"
    assert services.services == ("openrouter", "gemini")
    assert services.default == "openrouter"
    assert services.capabilities["gemini"]["multimodal"] is True


def test_usage_get_with_dates(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(
        reply(
            200,
            {
                "period": "month",
                "total_requests": 1250,
                "total_tokens": 125000,
                "total_cost_usd": 2.35,
                "quota_limit": 10000,
                "quota_used": 1250,
                "quota_remaining": 8750,
                "daily_breakdown": [{"date": "2025-09-01", "requests": 45, "tokens": 4500, "cost_usd": 0.09}],
            },
        )
    )

    report = client.usage.get(start_date=datetime.date(2025, 9, 1), end_date="2025-09-30")

    assert gateway.last.url.path == "/v1/developer/usage"
    assert dict(gateway.last.url.params) == {"start_date": "2025-09-01", "end_date": "2025-09-30"}
    assert report.total_requests == 1250
    assert report.total_cost_usd == 2.35
    assert report.quota_remaining == 8750
    assert report.daily_breakdown[0].date == "2025-09-01"
    assert report.daily_breakdown[0].cost_usd == 0.09


def test_usage_get_by_period(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(reply(200, {"period": "week"}))
    assert client.usage.get("week").period == "week"
    assert dict(gateway.last.url.params) == {"period": "week"}


def test_usage_breakdown_by_model_and_by_key(client: AIHub, gateway: FakeGateway) -> None:
    group = {
        "requests": 3,
        "prompt_tokens": 30,
        "completion_tokens": 12,
        "total_tokens": 42,
        "cost_usd": 0.25,
    }
    gateway.queue(
        reply(
            200,
            {
                "period": "custom",
                "start_date": "2025-09-01",
                "end_date": "2025-09-30",
                "by_model": [{"model": "x-ai/grok-beta", "key_id": "", "key_name": "", **group}],
                "by_key": [{"model": "", "key_id": "key_1", "key_name": "CI", **group}, {"requests": 1}],
            },
            headers={"x-request-id": "req_9"},
        )
    )

    breakdown = client.usage.breakdown(start_date=datetime.date(2025, 9, 1), end_date="2025-09-30")

    assert gateway.last.url.path == "/v1/developer/usage/breakdown"
    assert dict(gateway.last.url.params) == {"start_date": "2025-09-01", "end_date": "2025-09-30"}
    assert (breakdown.period, breakdown.start_date, breakdown.end_date) == (
        "custom",
        "2025-09-01",
        "2025-09-30",
    )
    assert breakdown.by_model == (UsageGroup("x-ai/grok-beta", "", "", 3, 30, 12, 42, 0.25),)
    # The login token's group: no key id, no name.
    assert breakdown.by_key == (UsageGroup("", "key_1", "CI", 3, 30, 12, 42, 0.25), UsageGroup(requests=1))
    assert breakdown.request_id == "req_9"
    gateway.queue(reply(200, {"period": "week"}))
    assert client.usage.breakdown("week").by_model == ()
    assert dict(gateway.last.url.params) == {"period": "week"}


def test_quota_get(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(
        reply(
            200,
            {
                "plan": "professional",
                "quota_limit": 10000,
                "quota_used": 1250,
                "quota_remaining": 8750,
                "reset_date": "2025-10-01T00:00:00Z",
                "rate_limit": {"requests_per_minute": 60, "tokens_per_minute": 15000},
            },
        )
    )
    quota = client.quota.get()
    assert gateway.last.url.path == "/v1/developer/quota"
    assert quota.plan == "professional"
    assert quota.rate_limit.requests_per_minute == 60
    assert quota.rate_limit.tokens_per_minute == 15000
    assert quota.reset_date == "2025-10-01T00:00:00Z"


def test_a_non_json_success_body_is_an_api_error(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(httpx.Response(200, text="<html>proxy</html>"))
    with pytest.raises(APIError, match="proxy"):
        client.quota.get()
    gateway.queue(reply(200, {"model": "m"}))
    with pytest.raises(APIError, match="message"):
        client.chat.create("hi")
