"""Canned core answers: the spec's example figures as protobuf messages."""

from __future__ import annotations

from typing import Any

from google.protobuf import timestamp_pb2

from aihub.v1 import auth_service_pb2, chat_service_pb2, key_service_pb2, model_service_pb2, usage_service_pb2


def ts(text: str) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromJsonString(text)
    return stamp


def content(text: str, model: str = "x-ai/grok-beta") -> chat_service_pb2.StreamChatResponse:
    return chat_service_pb2.StreamChatResponse(
        content=chat_service_pb2.ContentEvent(content=text, model=model)
    )


USAGE = chat_service_pb2.Usage(
    prompt_tokens=25, completion_tokens=150, total_tokens=175, estimated_cost_usd=0.00035
)
CHAT_METADATA = chat_service_pb2.ChatMetadata(
    response_time_ms=1250, service_used="openrouter", finish_reason="stop", request_id="req_x"
)
STREAM_EVENTS = (
    content("Hello"),
    content(" there!"),
    chat_service_pb2.StreamChatResponse(session=chat_service_pb2.SessionEvent(session_id="session_123")),
    chat_service_pb2.StreamChatResponse(
        usage=chat_service_pb2.UsageEvent(usage=USAGE, metadata=CHAT_METADATA)
    ),
    chat_service_pb2.StreamChatResponse(done=chat_service_pb2.DoneEvent()),
)


def canned_replies() -> dict[str, Any]:
    key_time = ts("2025-09-29T10:00:00Z")
    return {
        "Register": auth_service_pb2.RegisterResponse(
            user_id="user_1", email="a@b.dev", token="jwt", expires_at=ts("2025-10-06T10:00:00Z"), role="user"
        ),
        "Login": auth_service_pb2.LoginResponse(
            user_id="user_1",
            email="a@b.dev",
            token="jwt2",
            expires_at=ts("2025-10-06T10:00:00.5Z"),
            role="admin",
        ),
        "Chat": chat_service_pb2.ChatResponse(
            message="AI助手的回复内容",
            model="openrouter:x-ai/grok-beta",
            session_id="session_123",
            usage=USAGE,
            metadata=CHAT_METADATA,
        ),
        "ListModels": model_service_pb2.ListModelsResponse(
            service="openrouter",
            models=[
                model_service_pb2.Model(
                    id="x-ai/grok-beta",
                    name="Grok Beta",
                    description="X.AI的最新对话模型",
                    context_length=131072,
                    pricing=model_service_pb2.ModelPricing(prompt=0.000002, completion=0.000002),
                    capabilities=["chat", "multimodal"],
                    service="openrouter",
                    category="chat",
                    aliases=["grok-beta"],
                )
            ],
            total_count=23,
        ),
        "ListServices": model_service_pb2.ListServicesResponse(
            services=["openrouter", "gemini"],
            default="openrouter",
            capabilities={
                "openrouter": model_service_pb2.ServiceCapabilities(
                    text_generation=True, streaming=True, multi_model=True, cost_efficient=True
                ),
                "gemini": model_service_pb2.ServiceCapabilities(
                    text_generation=True, streaming=True, multimodal=True
                ),
            },
            simulated={"openrouter": True, "gemini": False},
        ),
        "GetUsage": usage_service_pb2.GetUsageResponse(
            period="month",
            start_date="2025-09-01",
            end_date="2025-09-30",
            total_requests=1250,
            total_tokens=125000,
            total_cost_usd=2.35,
            quota_limit=10000,
            quota_used=1250,
            quota_remaining=8750,
            daily_breakdown=[
                usage_service_pb2.DailyUsage(date="2025-09-01", requests=45, tokens=4500, cost_usd=0.09)
            ],
        ),
        "GetUsageBreakdown": usage_service_pb2.GetUsageBreakdownResponse(
            period="month",
            start_date="2025-09-01",
            end_date="2025-09-30",
            by_model=[
                usage_service_pb2.UsageGroup(
                    model="x-ai/grok-beta",
                    requests=1250,
                    prompt_tokens=100000,
                    completion_tokens=25000,
                    total_tokens=125000,
                    cost_usd=2.35,
                )
            ],
            by_key=[
                usage_service_pb2.UsageGroup(
                    key_id="key_123",
                    key_name="My App Key",
                    requests=1250,
                    prompt_tokens=100000,
                    completion_tokens=25000,
                    total_tokens=125000,
                    cost_usd=2.35,
                )
            ],
        ),
        "GetQuota": usage_service_pb2.GetQuotaResponse(
            plan="professional",
            quota_limit=10000,
            quota_used=1250,
            quota_remaining=8750,
            reset_date=ts("2025-10-01T00:00:00Z"),
            rate_limit=usage_service_pb2.RateLimit(
                requests_per_minute=60, tokens_per_minute=15000, concurrent_requests=10
            ),
        ),
        "CreateApiKey": key_service_pb2.CreateApiKeyResponse(
            id="key_123",
            name="My App Key",
            key="ai-hub-xxx-xxx-xxx",
            created_at=key_time,
            permissions=["chat", "models", "usage"],
        ),
        "ListApiKeys": key_service_pb2.ListApiKeysResponse(
            api_keys=[
                key_service_pb2.ApiKey(
                    id="key_123",
                    name="My App Key",
                    prefix="ai-hub-xx",
                    created_at=key_time,
                    permissions=["chat"],
                    last_used=ts("2025-09-30T08:00:00Z"),
                    rate_limit=key_service_pb2.KeyRateLimit(requests_per_minute=30),
                )
            ],
            total_count=1,
        ),
        "DeleteApiKey": key_service_pb2.DeleteApiKeyResponse(id="key_123", deleted=True),
    }
