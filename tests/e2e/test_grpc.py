"""Every RPC over gRPC with the same credentials; rich errors; health and reflection."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from aihub.v1 import (
    auth_service_pb2 as auth_pb,
)
from aihub.v1 import (
    auth_service_pb2_grpc as auth_grpc,
)
from aihub.v1 import (
    chat_service_pb2 as chat_pb,
)
from aihub.v1 import (
    chat_service_pb2_grpc as chat_grpc,
)
from aihub.v1 import (
    key_service_pb2 as key_pb,
)
from aihub.v1 import (
    key_service_pb2_grpc as key_grpc,
)
from aihub.v1 import (
    model_service_pb2 as model_pb,
)
from aihub.v1 import (
    model_service_pb2_grpc as model_grpc,
)
from aihub.v1 import (
    usage_service_pb2 as usage_pb,
)
from aihub.v1 import (
    usage_service_pb2_grpc as usage_grpc,
)
from aihub_core.app import Core
from aihub_core.grpc_api.server import SERVICE_NAMES
from tests.fake_clock import FakeClock
from tests.waiting import eventually


def bearer(value: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {value}"),)


async def new_key(
    channel: grpc.aio.Channel, email: str = "grpc@example.com", rate_limit: key_pb.KeyRateLimit | None = None
) -> tuple[str, str]:
    """Register and create a key over gRPC; returns (jwt, api key)."""
    registered = await auth_grpc.AuthServiceStub(channel).Register(
        auth_pb.RegisterRequest(email=email, password="correct horse")
    )
    created = await key_grpc.KeyServiceStub(channel).CreateApiKey(
        key_pb.CreateApiKeyRequest(name="grpc", rate_limit=rate_limit),
        metadata=bearer(registered.token),
    )
    return registered.token, created.key


def error_info(err: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    status = rpc_status.from_call(err)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    assert any(d.Unpack(info) for d in status.details)
    return info


async def test_every_rpc_answers_over_grpc(channel: grpc.aio.Channel) -> None:
    jwt, key = await new_key(channel)
    login = await auth_grpc.AuthServiceStub(channel).Login(
        auth_pb.LoginRequest(email="grpc@example.com", password="correct horse")
    )
    assert login.token and login.expires_at.seconds > 0

    chat = chat_grpc.ChatServiceStub(channel)
    call = chat.Chat(chat_pb.ChatRequest(message="Hello, AI Hub!", max_tokens=150), metadata=bearer(key))
    answer = await call
    assert answer.model == "openrouter:x-ai/grok-beta" and answer.metadata.simulated
    initial = dict(await call.initial_metadata())
    assert initial["x-ratelimit-limit"] == "20" and initial["x-request-id"] == answer.metadata.request_id

    events = [
        e
        async for e in chat.StreamChat(
            chat_pb.StreamChatRequest(message="hi", session_id=answer.session_id), metadata=bearer(key)
        )
    ]
    kinds = [e.WhichOneof("event") for e in events]
    assert kinds[-3:] == ["session", "usage", "done"] and set(kinds[:-3]) == {"content"}
    assert events[-3].session.session_id == answer.session_id

    models = await model_grpc.ModelServiceStub(channel).ListModels(
        model_pb.ListModelsRequest(service="gemini", page_size=2), metadata=bearer(key)
    )
    assert len(models.models) == 2 and models.next_page_token and models.total_count > 2
    second = await model_grpc.ModelServiceStub(channel).ListModels(
        model_pb.ListModelsRequest(service="gemini", page_size=2, page_token=models.next_page_token),
        metadata=bearer(key),
    )
    assert {m.id for m in second.models}.isdisjoint(m.id for m in models.models)
    with pytest.raises(grpc.aio.AioRpcError) as bad_token:
        await model_grpc.ModelServiceStub(channel).ListModels(
            model_pb.ListModelsRequest(page_token="garbage"), metadata=bearer(key)
        )
    assert error_info(bad_token.value).reason == "INVALID_PAGE_TOKEN"
    services = await model_grpc.ModelServiceStub(channel).ListServices(
        model_pb.ListServicesRequest(), metadata=bearer(key)
    )
    assert list(services.services) == ["openrouter", "gemini"] and services.simulated["gemini"]

    usage = await usage_grpc.UsageServiceStub(channel).GetUsage(
        usage_pb.GetUsageRequest(period="day"), metadata=bearer(key)
    )
    assert usage.total_requests == 2 and usage.quota_used == 2
    quota = await usage_grpc.UsageServiceStub(channel).GetQuota(
        usage_pb.GetQuotaRequest(), metadata=bearer(key)
    )
    assert quota.plan == "free" and quota.rate_limit.concurrent_requests == 3

    keys = key_grpc.KeyServiceStub(channel)
    listed = await keys.ListApiKeys(key_pb.ListApiKeysRequest(), metadata=bearer(jwt))
    assert listed.total_count == 1 and listed.api_keys[0].HasField("last_used")
    deleted = await keys.DeleteApiKey(
        key_pb.DeleteApiKeyRequest(key_id=listed.api_keys[0].id), metadata=bearer(jwt)
    )
    assert deleted.deleted
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await usage_grpc.UsageServiceStub(channel).GetQuota(usage_pb.GetQuotaRequest(), metadata=bearer(key))
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize(
    ("request_", "code", "reason", "param"),
    [
        (chat_pb.ChatRequest(message=""), grpc.StatusCode.INVALID_ARGUMENT, "MISSING_PARAMETER", "message"),
        (
            chat_pb.ChatRequest(message="hi", temperature=2),
            grpc.StatusCode.INVALID_ARGUMENT,
            "INVALID_PARAMETER",
            "temperature",
        ),
        (
            chat_pb.ChatRequest(message="hi", model="nope"),
            grpc.StatusCode.NOT_FOUND,
            "MODEL_NOT_FOUND",
            "model",
        ),
    ],
)
async def test_errors_carry_error_info(
    channel: grpc.aio.Channel, request_: chat_pb.ChatRequest, code: grpc.StatusCode, reason: str, param: str
) -> None:
    _, key = await new_key(channel)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await chat_grpc.ChatServiceStub(channel).Chat(request_, metadata=bearer(key))
    assert info.value.code() == code
    detail = error_info(info.value)
    assert (detail.reason, detail.domain, detail.metadata["parameter"]) == (reason, "aihub.dev", param)
    assert detail.metadata["request_id"].startswith("req_")


async def test_an_empty_permission_list_marked_present_is_refused(channel: grpc.aio.Channel) -> None:
    token, _ = await new_key(channel)
    keys = key_grpc.KeyServiceStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await keys.CreateApiKey(
            key_pb.CreateApiKeyRequest(name="none", permissions_present=True), metadata=bearer(token)
        )
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(info.value).metadata["parameter"] == "permissions"
    # Unmarked, an empty list is a client that never set the field (as before the flag): all three.
    every = await keys.CreateApiKey(key_pb.CreateApiKeyRequest(name="all"), metadata=bearer(token))
    assert list(every.permissions) == ["chat", "models", "usage"]
    marked = key_pb.CreateApiKeyRequest(name="chat", permissions=["chat"], permissions_present=True)
    assert list((await keys.CreateApiKey(marked, metadata=bearer(token))).permissions) == ["chat"]


async def test_rate_limit_sends_retry_info(channel: grpc.aio.Channel, clock: FakeClock) -> None:
    _, key = await new_key(channel, rate_limit=key_pb.KeyRateLimit(requests_per_minute=1))
    clock.clear_of_minute_boundary()
    stub = chat_grpc.ChatServiceStub(channel)
    await stub.Chat(chat_pb.ChatRequest(message="hi"), metadata=bearer(key))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.Chat(chat_pb.ChatRequest(message="hi"), metadata=bearer(key))
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    status = rpc_status.from_call(info.value)
    retry = error_details_pb2.RetryInfo()
    assert status is not None and any(d.Unpack(retry) for d in status.details)
    assert 1 <= retry.retry_delay.seconds <= 60
    assert dict(info.value.initial_metadata())["x-ratelimit-remaining"] == "0"


async def test_health_and_reflection_list_every_service(
    core: Core, channel: grpc.aio.Channel, grpc_channel: grpc.aio.Channel
) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for name in ("", *SERVICE_NAMES):
        answer = await health.Check(health_pb2.HealthCheckRequest(service=name))
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
    reflection = reflection_pb2_grpc.ServerReflectionStub(grpc_channel)  # client streaming: gRPC only
    call = reflection.ServerReflectionInfo()
    await call.write(reflection_pb2.ServerReflectionRequest(list_services=""))
    listed = await call.read()
    names = {s.name for s in listed.list_services_response.service}
    assert set(SERVICE_NAMES) <= names and "grpc.health.v1.Health" in names
    await call.write(reflection_pb2.ServerReflectionRequest(file_containing_symbol="aihub.v1.ChatService"))
    described = await call.read()
    await call.done_writing()
    assert described.file_descriptor_response.file_descriptor_proto


async def test_cancelling_a_stream_stops_it_and_records_the_call(core: Core) -> None:
    async with grpc.aio.insecure_channel(core.address) as channel:
        _, key = await new_key(channel)
        core.upstreams.simulators["openrouter"].scenario = "stall"
        stream = chat_grpc.ChatServiceStub(channel).StreamChat(
            chat_pb.StreamChatRequest(message="hi"), metadata=bearer(key)
        )
        first = await stream.read()
        assert isinstance(first, chat_pb.StreamChatResponse) and first.WhichOneof("event") == "content"
        stream.cancel()
        core.upstreams.simulators["openrouter"].scenario = None

        async def recorded() -> bool:
            usage = await usage_grpc.UsageServiceStub(channel).GetUsage(
                usage_pb.GetUsageRequest(period="day"), metadata=bearer(key)
            )
            return usage.total_requests == 1 and usage.total_tokens > 0

        await eventually(recorded, "the cancelled call is recorded with its tokens")
