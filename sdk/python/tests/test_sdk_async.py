"""`AsyncAIHub` has `AIHub`'s surface, awaited, and sends the same requests."""

from __future__ import annotations

import inspect
from typing import Any

import httpx
import pytest
from ai_hub_fakes import BASE_URL, FakeGateway, error_reply, reply

from ai_hub import AIHub, AsyncAIHub, AsyncStream, NotFoundError

RESOURCES = ["chat", "models", "services", "usage", "quota", "api_keys", "auth"]


def public_methods(obj: object) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(obj, callable)
        if not name.startswith("_")
    }


def test_async_resources_mirror_the_sync_ones() -> None:
    sync, async_ = AIHub("k"), AsyncAIHub("k")
    for resource in RESOURCES:
        sync_methods = public_methods(getattr(sync, resource))
        async_methods = public_methods(getattr(async_, resource))
        assert sync_methods.keys() == async_methods.keys(), resource
        for name, signature in sync_methods.items():
            assert str(async_methods[name].parameters) == str(signature.parameters), f"{resource}.{name}"
            method = getattr(getattr(async_, resource), name)
            assert inspect.iscoroutinefunction(method) == (name != "stream"), f"{resource}.{name}"
    sync.close()


async def test_every_async_call_sends_what_the_sync_call_sends(gateway: FakeGateway) -> None:
    calls: list[tuple[str, str, tuple[Any, ...], dict[str, Any]]] = [
        ("chat", "create", ("hi",), {"model": "m", "temperature": 0.5}),
        ("models", "list", (), {"service": "gemini"}),
        ("services", "list", (), {}),
        ("usage", "get", ("month",), {}),
        ("usage", "breakdown", ("week",), {}),
        ("quota", "get", (), {}),
        ("api_keys", "create", ("k",), {"permissions": ["chat"]}),
        ("api_keys", "list", (), {}),
        ("api_keys", "delete", ("key_1",), {}),
        ("auth", "register", ("a@b.c", "pw"), {}),
        ("auth", "login", ("a@b.c", "pw"), {}),
    ]
    answers = {
        "chat": {"message": "ok", "model": "m"},
        "api_keys.create": {"id": "key_1", "name": "k", "key": "ai-hub-secret"},
        "api_keys.delete": {"id": "key_1", "deleted": True},
        "auth": {"user_id": "u", "email": "a@b.c", "token": "t"},
    }

    def answer(resource: str, method: str) -> httpx.Response:
        body = answers.get(f"{resource}.{method}", answers.get(resource, {}))
        return reply(200, body)

    transport = httpx.MockTransport(gateway.handle)
    sync = AIHub("ai-hub-k", base_url=BASE_URL, token="jwt", http_client=httpx.Client(transport=transport))
    async with httpx.AsyncClient(transport=transport) as http:
        async_ = AsyncAIHub("ai-hub-k", base_url=BASE_URL, token="jwt", http_client=http)
        for resource, method, args, kwargs in calls:
            gateway.queue(answer(resource, method), answer(resource, method))
            sync_result = getattr(getattr(sync, resource), method)(*args, **kwargs)
            async_result = await getattr(getattr(async_, resource), method)(*args, **kwargs)
            assert sync_result == async_result
            sent_sync, sent_async = gateway.requests[-2:]
            assert (sent_sync.method, sent_sync.url) == (sent_async.method, sent_async.url)
            assert sent_sync.content == sent_async.content
            for header in ("authorization", "accept", "user-agent"):
                assert sent_sync.headers.get(header) == sent_async.headers.get(header)
    sync._http.close()


async def test_async_errors_map_the_same_way(async_client: AsyncAIHub, gateway: FakeGateway) -> None:
    gateway.queue(error_reply(404, "invalid_request_error", "model_not_found"))
    with pytest.raises(NotFoundError) as caught:
        await async_client.chat.create("hi", model="nope")
    assert caught.value.code == "model_not_found"


async def test_async_with_token_shares_the_pool(async_client: AsyncAIHub) -> None:
    derived = async_client.with_token("jwt")
    assert derived.token == "jwt" and derived.api_key == async_client.api_key
    assert derived._http is async_client._http
    assert isinstance(derived.chat.stream("x"), AsyncStream)
