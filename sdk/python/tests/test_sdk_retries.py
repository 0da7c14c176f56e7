"""Retries: only for connection failures, 429 and 5xx, only when repeating the request is harmless."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from ai_hub_fakes import FakeGateway, error_reply, reply, sse, sse_reply

from ai_hub import AIHub, APIConnectionError, APIError, AsyncAIHub, ConflictError, RateLimitError

CHAT = {"message": "ok", "model": "m"}


def test_5xx_on_a_get_is_retried_with_growing_jittered_backoff(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(
        error_reply(500, "api_error", "internal_error"), error_reply(503, "api_error", "x"), reply(200, {})
    )
    client.quota.get()
    assert len(gateway.requests) == 3
    first, second = gateway.sleeps
    assert 0.25 <= first <= 0.5
    assert 0.5 <= second <= 1.0


def test_retries_stop_after_max_retries(make_client: Callable[..., AIHub], gateway: FakeGateway) -> None:
    gateway.queue(*[error_reply(502, "api_error", "upstream_error")] * 4)
    with pytest.raises(APIError):
        make_client(max_retries=3).models.list()
    assert len(gateway.requests) == 4
    assert len(gateway.sleeps) == 3


def test_max_retries_zero_sends_once(make_client: Callable[..., AIHub], gateway: FakeGateway) -> None:
    gateway.queue(error_reply(500, "api_error", "internal_error"))
    with pytest.raises(APIError):
        make_client(max_retries=0).services.list()
    assert len(gateway.requests) == 1


def test_retry_after_is_honoured(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(
        error_reply(429, "rate_limit_error", "rate_limit_exceeded", headers={"retry-after": "7"}), reply()
    )
    client.usage.get()
    assert gateway.sleeps == [7.0]


def test_retry_after_beyond_a_minute_is_raised_not_slept(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(
        error_reply(429, "rate_limit_error", "rate_limit_exceeded", headers={"retry-after": "3600"})
    )
    with pytest.raises(RateLimitError) as caught:
        client.usage.get()
    assert caught.value.retry_after == 3600.0
    assert gateway.sleeps == []


def test_a_spent_quota_is_not_retried(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(error_reply(429, "rate_limit_error", "quota_exceeded", headers={"retry-after": "1"}))
    with pytest.raises(RateLimitError):
        client.quota.get()
    assert len(gateway.requests) == 1


def test_4xx_is_never_retried(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(error_reply(409, "invalid_request_error", "already_exists"))
    with pytest.raises(ConflictError):
        client.auth.register("a@b.c", "pw")
    assert len(gateway.requests) == 1


def test_connection_errors_on_a_get_are_retried(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(httpx.ConnectError("refused"), httpx.ReadError("reset"), reply(200, {"plan": "free"}))
    assert client.quota.get().plan == "free"
    assert len(gateway.requests) == 3


def test_chat_create_is_retried_with_the_same_idempotency_key(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(
        httpx.ReadTimeout("slow"),
        error_reply(429, "rate_limit_error", "rate_limit_exceeded", headers={"retry-after": "0"}),
        reply(200, CHAT),
    )
    assert client.chat.create("hi").message == "ok"
    keys = [r.headers["idempotency-key"] for r in gateway.requests]
    assert len(keys) == 3 and len(set(keys)) == 1
    assert [r.content for r in gateway.requests] == [gateway.requests[0].content] * 3


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        error_reply(500, "api_error", "internal_error"),
        error_reply(429, "rate_limit_error", "rate_limit_exceeded", headers={"retry-after": "0"}),
    ],
)
def test_posts_without_an_idempotency_key_are_not_retried(
    make_client: Callable[..., AIHub], gateway: FakeGateway, failure: httpx.Response | Exception
) -> None:
    gateway.queue(failure)
    with pytest.raises((APIConnectionError, APIError, RateLimitError)):
        make_client(token="jwt").api_keys.create("k")
    assert len(gateway.requests) == 1


def test_delete_is_idempotent_and_retried(make_client: Callable[..., AIHub], gateway: FakeGateway) -> None:
    gateway.queue(
        error_reply(503, "api_error", "service_unavailable"), reply(200, {"id": "k1", "deleted": True})
    )
    assert make_client(token="jwt").api_keys.delete("k1").deleted
    assert len(gateway.requests) == 2


def test_a_stream_is_retried_until_it_starts(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(
        error_reply(503, "api_error", "service_unavailable", headers={"retry-after": "0"}),
        sse_reply([sse({"type": "content", "content": "hi"}, {"type": "done"})]),
    )
    assert client.chat.stream("hi").text() == "hi"
    assert len(gateway.requests) == 2
    assert gateway.requests[0].headers["idempotency-key"] == gateway.requests[1].headers["idempotency-key"]


def test_a_stream_is_never_retried_after_it_started(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(sse_reply([sse({"type": "content", "content": "partial"}), httpx.ReadError("reset")]))
    stream = client.chat.stream("hi")
    with pytest.raises(APIConnectionError):
        stream.text()
    assert len(gateway.requests) == 1
    assert gateway.sleeps == []


async def test_async_client_retries_the_same_way(async_client: AsyncAIHub, gateway: FakeGateway) -> None:
    gateway.queue(
        httpx.ConnectError("refused"),
        error_reply(429, "rate_limit_error", "rate_limit_exceeded", headers={"retry-after": "2"}),
        reply(200, CHAT),
    )
    assert (await async_client.chat.create("hi")).message == "ok"
    assert len(gateway.requests) == 3
    assert len(gateway.sleeps) == 2 and gateway.sleeps[1] == 2.0


async def test_async_client_does_not_retry_unsafe_posts(
    async_client: AsyncAIHub, gateway: FakeGateway
) -> None:
    gateway.queue(error_reply(500, "api_error", "internal_error"))
    with pytest.raises(APIError):
        await async_client.auth.login("a@b.c", "pw")
    assert len(gateway.requests) == 1
