"""Circuit breakers per (service, model), and a provider's 429 with a wait is back-pressure, not a
failure (issue 11, item 5): through the shim over HTTP against the simulators; the core's clock
(`FakeClock`) skips every backoff and Retry-After and moves past the cool-down."""

from __future__ import annotations

import httpx
import pytest

from aihub_core.app import Core
from aihub_core.resilience import BreakerPolicy, BreakerState
from tests.conftest import Account
from tests.e2e.test_fallbacks import Flaky, flaky
from tests.fake_clock import FakeClock

CHAT = "/v1/developer/chat"
BROKEN = "x-ai/grok-beta"
HEALTHY = "openai/gpt-4o"
# Five retryable failures within 60 s open a breaker for 30 s; each call is tried three times.
POLICY = BreakerPolicy()


def break_model(core: Core, scenario: str) -> Flaky:
    """OpenRouter's real adapter, whose simulator puts `scenario` on for BROKEN only."""
    return flaky(core, "openrouter", scenario, only=BROKEN)


async def ask(http: httpx.AsyncClient, account: Account, model: str) -> httpx.Response:
    return await http.post(CHAT, json={"message": "hi", "model": model}, headers=account.key_auth)


async def test_one_failing_model_opens_its_own_breaker_only(
    core: Core, http: httpx.AsyncClient, account: Account, clock: FakeClock
) -> None:
    provider = break_model(core, "error-503")
    for _ in range(2):  # 3 + 2 failed attempts open the breaker; the second call's third is not sent
        assert (await ask(http, account, BROKEN)).status_code == 502
    assert provider.model_calls[BROKEN] == 5
    assert core.router.breaker("openrouter", BROKEN).state is BreakerState.OPEN
    refused = await ask(http, account, BROKEN)
    assert refused.status_code == 502 and refused.json()["error"]["code"] == "circuit_open"
    assert BROKEN in refused.json()["error"]["message"] and provider.model_calls[BROKEN] == 5  # failed fast
    other = await ask(http, account, HEALTHY)  # the same service's other model is unaffected
    assert other.status_code == 200 and provider.model_calls[HEALTHY] == 1
    assert core.router.breaker("openrouter", HEALTHY).state is BreakerState.CLOSED
    provider.failures = 0  # the broken provider recovers
    clock.advance(POLICY.cooldown)
    assert (await ask(http, account, BROKEN)).status_code == 200 and provider.model_calls[BROKEN] == 6
    assert core.router.breaker("openrouter", BROKEN).state is BreakerState.CLOSED


@pytest.mark.parametrize(
    ("scenario", "attempts"),
    [
        ("error-429-retry-ms", 3),  # a short wait: honoured, and the call retried
        ("error-429", 1),  # OpenRouter's 12 s: longer than a retry waits, so the call gives up
    ],
)
async def test_a_429_with_a_wait_is_not_a_failure(
    core: Core, http: httpx.AsyncClient, account: Account, clock: FakeClock, scenario: str, attempts: int
) -> None:
    provider = break_model(core, scenario)
    for _ in range(6):  # more 429s than the threshold, none counted against the model
        answer = await ask(http, account, BROKEN)
        assert answer.status_code >= 429 and answer.json()["error"]["code"] != "circuit_open", answer.text
    assert provider.model_calls[BROKEN] == 6 * attempts
    assert clock.slept == [0.25] * (6 * (attempts - 1))  # every retry waited as the provider asked
    assert core.router.breaker("openrouter", BROKEN).state is BreakerState.CLOSED
    provider.failures = 0  # the back-pressure ends: the next call goes straight through
    assert (await ask(http, account, BROKEN)).status_code == 200
    assert provider.model_calls[BROKEN] == 6 * attempts + 1


async def test_a_model_that_keeps_failing_still_opens_after_429s(
    core: Core, http: httpx.AsyncClient, account: Account
) -> None:
    provider = break_model(core, "error-429-retry-ms")
    await ask(http, account, BROKEN)  # three 429s with a wait: no verdict
    provider.scenario = "error-503"
    await ask(http, account, BROKEN)
    await ask(http, account, BROKEN)  # 3 + 2 failures open it
    assert provider.model_calls[BROKEN] == 8
    assert core.router.breaker("openrouter", BROKEN).state is BreakerState.OPEN
