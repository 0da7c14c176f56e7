"""Upstream failures through REST: the spec's 5xx api_error, never the user's 401; usage still right."""

from __future__ import annotations

import httpx
import pytest

from aihub_core.app import Core
from tests.conftest import Account

CHAT = "/v1/developer/chat"


@pytest.mark.parametrize("service", ["openrouter", "gemini"])
@pytest.mark.parametrize(
    ("scenario", "status", "code"),
    [
        ("error-401", 500, "upstream_auth_failed"),
        ("error-500", 502, "upstream_error"),
        ("error-503", 502, "upstream_error"),
    ],
)
async def test_upstream_failures_are_api_errors(
    core: Core, http: httpx.AsyncClient, account: Account, service: str, scenario: str, status: int, code: str
) -> None:
    core.upstreams.simulators[service].scenario = scenario
    answer = await http.post(CHAT, json={"message": "hi", "service": service}, headers=account.key_auth)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert (error["type"], error["code"]) == ("api_error", code)
    assert "simulated-key" not in answer.text  # the provider key never reaches a user
    core.upstreams.simulators[service].scenario = None
    usage = (await http.get("/v1/developer/usage", params={"period": "day"}, headers=account.key_auth)).json()
    assert (usage["total_requests"], usage["total_cost_usd"]) == (1, 0.0)  # failed before content: free


async def test_a_stream_without_usage_is_estimated_and_recorded(
    core: Core, http: httpx.AsyncClient, account: Account
) -> None:
    core.upstreams.simulators["openrouter"].scenario = "no-usage"
    answer = await http.post(CHAT, json={"message": "hi"}, headers=account.key_auth)
    assert answer.status_code == 200, answer.text
    usage = answer.json()["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0


async def test_unicode_survives_fragmented_upstream_writes(
    core: Core, http: httpx.AsyncClient, account: Account
) -> None:
    for service in ("openrouter", "gemini"):
        core.upstreams.simulators[service].scenario = "unicode"
        whole = (
            await http.post(CHAT, json={"message": "hi", "service": service}, headers=account.key_auth)
        ).json()["message"]
        assert "\u2028" in whole and "\ufffd" not in whole
