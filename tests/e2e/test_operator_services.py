"""AIHUB_CONFIG end to end: an operator's OpenAI-compatible service, plans and fallbacks in a real core."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from aihub_cli.http_server import start_http
from aihub_core.app import Core
from aihub_core.simulators import OpenRouterSimulator
from aihub_http.app import create_app
from tests import conftest
from tests.conftest import make_account
from tests.e2e.sse import sse_events

LOCAL_KEY = "sk-local-0123456789"
PROMPT_PRICE, COMPLETION_PRICE = 0.0000007, 0.0000021


def exact_cost(usage: dict[str, int]) -> float:
    """tokens x the prices as the config prints them, in decimal: the double nearest it."""
    prompt, completion = Decimal(str(PROMPT_PRICE)), Decimal(str(COMPLETION_PRICE))
    return float(usage["prompt_tokens"] * prompt + usage["completion_tokens"] * completion)


def operator_toml(base_url: str) -> str:
    return f"""
[[services]]
name = "local"
kind = "openai-compatible"
base_url = "{base_url}"
api_key_env = "LOCAL_API_KEY"
default_model = "llama3.1"

[[services.models]]
id = "llama3.1"
name = "Llama 3.1"
context_length = 131072
prompt_price = {PROMPT_PRICE}
completion_price = {COMPLETION_PRICE}

[[services.models]]
id = "qwen2.5-coder"
context_length = 32768
prompt_price = 0
completion_price = 0
capabilities = ["chat", "code"]

[plans.internal]
requests_per_minute = 0
tokens_per_minute = 0
concurrent_requests = 0
monthly_requests = 0

[fallbacks]
"x-ai/grok-beta" = ["openai/gpt-4o-mini", "gemini:gemini-2.5-flash", "local:llama3.1"]

[model_overrides."openrouter:openai/gpt-4o"]
prompt_price = 0.00001
"""


@dataclass(frozen=True)
class Running:
    core: Core
    http: httpx.AsyncClient
    upstream: OpenRouterSimulator


@pytest.fixture
async def running(tmp_path: Path, transport: str) -> AsyncIterator[Running]:
    # Any OpenAI-compatible server will do; the OpenRouter simulator is one, checking our key.
    async with OpenRouterSimulator(
        chunk_delay_ms=0, models=["llama3.1", "qwen2.5-coder"], api_key=LOCAL_KEY
    ) as sim:
        config = tmp_path / "aihub.toml"
        config.write_text(operator_toml(sim.base_url), encoding="utf-8")
        settings = conftest.isolated_settings(tmp_path, config_path=config)
        core = await Core.start(settings, environ={"LOCAL_API_KEY": LOCAL_KEY})
        server = await start_http(create_app(conftest.shim_target(core, transport)), "127.0.0.1", 0)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", timeout=30) as http:
                yield Running(core, http, sim)
        finally:
            await server.stop()
            await core.stop(grace=0)


async def test_services_and_models_list_the_operator_service(running: Running) -> None:
    account = await make_account(running.http)
    services = (await running.http.get("/v1/developer/services", headers=account.key_auth)).json()
    assert services["services"] == ["openrouter", "gemini", "local"]
    assert services["default"] == "openrouter"
    assert services["capabilities"]["local"] == {"text_generation": True, "streaming": True}
    assert services["simulated"]["local"] is False
    listed = await running.http.get(
        "/v1/developer/models", params={"service": "local"}, headers=account.key_auth
    )
    models = {m["id"]: m for m in listed.json()["models"]}
    assert set(models) == {"llama3.1", "qwen2.5-coder"}
    assert models["llama3.1"]["pricing"] == {"prompt": PROMPT_PRICE, "completion": COMPLETION_PRICE}
    assert models["qwen2.5-coder"]["capabilities"] == ["chat", "code"]
    assert models["qwen2.5-coder"]["name"] == "qwen2.5-coder"
    everything = await running.http.get("/v1/developer/models", headers=account.key_auth)
    by_id = {m["id"]: m for m in everything.json()["models"]}
    assert by_id["openai/gpt-4o"]["pricing"]["prompt"] == 0.00001  # the operator's override wins


async def test_chat_goes_through_the_operator_service_at_its_prices(running: Running) -> None:
    account = await make_account(running.http)
    answer = await running.http.post(
        "/v1/developer/chat", json={"message": "Hello there", "service": "local"}, headers=account.key_auth
    )
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["model"] == "local:llama3.1"
    assert data["metadata"]["service_used"] == "local" and data["metadata"]["simulated"] is False
    usage = data["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert usage["estimated_cost_usd"] == exact_cost(usage)
    sent = running.upstream.requests[-1]
    assert sent.headers["authorization"] == f"Bearer {LOCAL_KEY}" and sent.json["model"] == "llama3.1"


async def test_stream_goes_through_the_operator_service(running: Running) -> None:
    account = await make_account(running.http)
    body = {"message": "Stream please", "model": "local:llama3.1"}
    async with running.http.stream(
        "POST", "/v1/developer/chat/stream", json=body, headers=account.key_auth
    ) as response:
        assert response.status_code == 200
        events = await sse_events(response)
    kinds = [e["type"] for e in events]
    assert "content" in kinds and kinds[-1] == "done"
    usage = next(e for e in events if e["type"] == "usage")["usage"]
    assert usage["estimated_cost_usd"] == exact_cost(usage) and usage["completion_tokens"] > 0
    assert running.upstream.requests[-1].json["stream"] is True


async def test_operator_plan_and_fallbacks_are_configured(running: Running) -> None:
    account = await make_account(running.http, "ops@example.com")
    assert await running.core.store.set_plan("ops@example.com", "internal")
    quota = await running.http.get("/v1/developer/quota", headers=account.key_auth)
    assert quota.status_code == 200 and quota.json()["plan"] == "internal"
    assert running.core.fallbacks == {
        "openrouter:x-ai/grok-beta": (
            "openrouter:openai/gpt-4o-mini",
            "gemini:gemini-2.5-flash",
            "local:llama3.1",
        )
    }
