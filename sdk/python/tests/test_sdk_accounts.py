"""Accounts and API keys: register, login, token auth for key management."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from ai_hub_fakes import FakeGateway, reply

from ai_hub import AIHub, AuthenticationError, CreatedApiKey, LoggedOut

KEY = {
    "id": "key_123",
    "name": "My App Key",
    "created_at": "2025-09-29T10:00:00Z",
    "permissions": ["chat", "models", "usage"],
    "last_used": None,
    "rate_limit": {"requests_per_minute": 30},
}


def test_api_keys_use_the_token(make_client: Callable[..., AIHub], gateway: FakeGateway) -> None:
    client = make_client(api_key=None, token="jwt-token")
    gateway.queue(
        reply(201, {**KEY, "key": "ai-hub-secret"}),
        reply(200, {"api_keys": [{**KEY, "prefix": "ai-hub-abc"}], "total_count": 1, "next_page_token": ""}),
        reply(200, {"id": "key_123", "deleted": True}),
    )

    created = client.api_keys.create("My App Key", permissions=["chat"], requests_per_minute=30)
    listed = client.api_keys.list()
    deleted = client.api_keys.delete("key_123")

    create, list_, delete = gateway.requests
    assert (create.method, create.url.path) == ("POST", "/v1/developer/api-keys")
    assert json.loads(create.content) == {
        "name": "My App Key",
        "permissions": ["chat"],
        "rate_limit": {"requests_per_minute": 30},
    }
    assert (list_.method, list_.url.path) == ("GET", "/v1/developer/api-keys")
    assert (delete.method, delete.url.path) == ("DELETE", "/v1/developer/api-keys/key_123")
    assert {r.headers["authorization"] for r in gateway.requests} == {"Bearer jwt-token"}
    assert isinstance(created, CreatedApiKey)
    assert created.key == "ai-hub-secret"
    assert "ai-hub-secret" not in repr(created)
    assert created.rate_limit is not None and created.rate_limit.requests_per_minute == 30
    assert created.last_used is None
    assert listed.total_count == 1
    assert [k.prefix for k in listed] == ["ai-hub-abc"]
    assert listed.api_keys[0].key is None
    assert (deleted.id, deleted.deleted) == ("key_123", True)


def test_api_key_ids_are_escaped_in_the_path(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(reply(200, {"id": "a/b", "deleted": True}))
    client.with_token("jwt").api_keys.delete("a/b")
    assert gateway.last.url.raw_path == b"/v1/developer/api-keys/a%2Fb"


def test_register_login_then_manage_keys(client: AIHub, gateway: FakeGateway) -> None:
    info = {"user_id": "user_1", "email": "a@b.c", "token": "jwt-1", "expires_at": "2025-10-01T00:00:00Z"}
    gateway.queue(
        reply(201, info),
        reply(200, info),
        reply(201, {**KEY, "key": "ai-hub-new"}),
        reply(200, {"message": "ok", "model": "m"}),
    )

    registered = client.auth.register("a@b.c", "pw-123456")
    logged_in = client.auth.login(email="a@b.c", password="pw-123456")
    key = client.with_token(logged_in.token).api_keys.create("ci")
    assert key.key is not None
    client.with_api_key(key.key).chat.create("hi")

    register, login, create, chat = gateway.requests
    assert (register.url.path, login.url.path) == ("/v1/auth/register", "/v1/auth/login")
    assert json.loads(register.content) == {"email": "a@b.c", "password": "pw-123456"}
    assert "authorization" not in register.headers and "authorization" not in login.headers
    assert create.headers["authorization"] == "Bearer jwt-1"
    assert chat.headers["authorization"] == "Bearer ai-hub-new"
    assert registered.user_id == "user_1" and registered.expires_at == "2025-10-01T00:00:00Z"
    assert "jwt-1" not in repr(registered)


def test_logout_ends_the_token_it_is_sent_with(client: AIHub, gateway: FakeGateway) -> None:
    gateway.queue(reply(200, {"user_id": "user_1", "expires_at": "2025-10-01T00:00:00Z"}))

    ended = client.with_token("jwt-1").auth.logout()

    assert (gateway.last.method, gateway.last.url.path) == ("POST", "/v1/auth/logout")
    assert gateway.last.headers["authorization"] == "Bearer jwt-1"
    assert isinstance(ended, LoggedOut)
    assert (ended.user_id, ended.expires_at) == ("user_1", "2025-10-01T00:00:00Z")


def test_logout_needs_a_login_token(
    make_client: Callable[..., AIHub], gateway: FakeGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AI_HUB_API_KEY", raising=False)
    with pytest.raises(AuthenticationError, match="with_token"):
        make_client(api_key=None).auth.logout()  # no credential at all: nothing is sent
    assert gateway.requests == []
