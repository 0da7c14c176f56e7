"""Client configuration: credentials, environment, base URL, shared connections."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from ai_hub_fakes import BASE_URL, FakeGateway, reply

from ai_hub import AIHub, AuthenticationError


def test_missing_credentials_fail_before_sending(
    make_client: Callable[..., AIHub], gateway: FakeGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AI_HUB_API_KEY", raising=False)
    hub = make_client(api_key=None)
    with pytest.raises(AuthenticationError, match="AI_HUB_API_KEY") as caught:
        hub.quota.get()
    with pytest.raises(AuthenticationError, match="with_token"):
        hub.api_keys.list()
    assert caught.value.status_code is None
    assert caught.value.code == "missing_credentials"
    assert gateway.requests == []


def test_environment_fallbacks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI_HUB_API_KEY", "ai-hub-from-env")
    monkeypatch.setenv("AI_HUB_BASE_URL", "https://hub.example/")
    with AIHub() as hub:
        assert hub.api_key == "ai-hub-from-env"
        assert hub.base_url == "https://hub.example"
    with AIHub("ai-hub-explicit", base_url="http://other:9000") as hub:
        assert (hub.api_key, hub.base_url) == ("ai-hub-explicit", "http://other:9000")


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AI_HUB_API_KEY", raising=False)
    monkeypatch.delenv("AI_HUB_BASE_URL", raising=False)
    with AIHub() as hub:
        assert hub.base_url == "http://127.0.0.1:8000"
        assert hub.api_key is None and hub.token is None


@pytest.mark.parametrize(
    "given",
    [
        "https://api.ai-hub.dev",
        "https://api.ai-hub.dev/",
        "https://api.ai-hub.dev/v1",
        "https://api.ai-hub.dev/v1/developer/",
    ],
)
def test_base_url_may_include_the_api_prefix(
    given: str, make_client: Callable[..., AIHub], gateway: FakeGateway
) -> None:
    gateway.queue(reply(200, {"plan": "free"}))
    make_client(base_url=given).quota.get()
    assert str(gateway.last.url) == "https://api.ai-hub.dev/v1/developer/quota"


def test_negative_max_retries_is_refused() -> None:
    with pytest.raises(ValueError):
        AIHub("k", max_retries=-1)


def test_derived_clients_share_the_connection_pool(gateway: FakeGateway) -> None:
    hub = AIHub("k", base_url=BASE_URL)
    derived = hub.with_token("jwt")
    assert derived._http is hub._http
    derived.close()
    assert not hub._http.is_closed
    hub.close()
    assert hub._http.is_closed
