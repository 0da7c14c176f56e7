"""Every simulator scenario through the adapters: the answer, or the one error it must become."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from aihub_core.errors import UpstreamAuthError, UpstreamError, UpstreamTimeoutError
from aihub_core.providers.base import Completion, Provider
from aihub_core.providers.gemini import GeminiProvider
from aihub_core.providers.openai_compat import OpenAICompatibleProvider
from tests.providers.conftest import ask, collect

MODELS = {"openrouter": "x-ai/grok-beta", "gemini": "gemini-2.5-flash"}


@dataclass(frozen=True)
class Ok:
    finish: str = "stop"
    text: bool = True  # a non-empty answer (the scenario's healthy text)


@dataclass(frozen=True)
class Fails:
    error: type[UpstreamError] = UpstreamError
    code: str = "upstream_error"
    retryable: str = "true"
    retry_after: str | None = None
    reason: str = ""  # a piece of the upstream's own words the message must quote


OK = Ok()
BOTH = ("openrouter", "gemini")
# (scenario, services, stream or not (None: both), outcome)
TABLE: list[tuple[str, tuple[str, ...], bool | None, Ok | Fails]] = [
    ("healthy", BOTH, None, OK),
    ("crlf", BOTH, True, OK),
    ("lf", BOTH, True, OK),
    ("unicode", BOTH, None, OK),
    ("split-at-3,40,41,200,201,202", BOTH, True, OK),
    ("openai", ("openrouter",), None, OK),
    ("vllm", ("openrouter",), None, OK),
    ("ollama", ("openrouter",), None, OK),
    ("llamacpp", ("openrouter",), None, OK),
    ("n-2", BOTH, None, OK),
    ("single-chunk", BOTH, None, OK),
    ("empty-final", BOTH, None, OK),
    ("thoughts", BOTH, None, OK),
    ("tool-call", BOTH, None, Ok("tool_calls", text=False)),
    ("max-tokens-empty", BOTH, None, Ok("length", text=False)),
    ("blocked", BOTH, None, Ok("content_filter", text=False)),
    ("safety-candidate", ("gemini",), False, Ok("content_filter", text=False)),
    ("safety-candidate", BOTH, True, Ok("content_filter")),
    ("json-array", ("gemini",), True, OK),
    ("error-400", BOTH, None, Fails(retryable="false", reason="")),
    ("error-401", BOTH, None, Fails(UpstreamAuthError, "upstream_auth_failed", "false")),
    ("error-402", ("openrouter",), None, Fails(retryable="false", reason="Insufficient credits")),
    ("error-403", BOTH, None, Fails(UpstreamAuthError, "upstream_auth_failed", "false")),
    ("error-408", BOTH, None, Fails(UpstreamTimeoutError, "upstream_timeout")),
    ("error-413", BOTH, None, Fails(retryable="false")),
    ("error-429", ("openrouter",), None, Fails(code="upstream_rate_limited", retry_after="12")),
    ("error-429", ("gemini",), None, Fails(code="upstream_rate_limited", retry_after="1.5")),
    ("error-429-retry-ms", ("openrouter",), None, Fails(code="upstream_rate_limited", retry_after="0.25")),
    (
        "insufficient-quota",
        ("openrouter",),
        None,
        Fails(code="upstream_rate_limited", retryable="false", reason="exceeded your current quota"),
    ),
    # A per-day quota: the delay is said, yet not worth waiting for.
    (
        "insufficient-quota",
        ("gemini",),
        None,
        Fails(code="upstream_rate_limited", retryable="false", retry_after="20"),
    ),
    ("error-400-stream-options", ("openrouter",), None, Fails(retryable="false", reason="stream_options")),
    ("vllm-legacy-error", ("openrouter",), None, Fails(retryable="false", reason="context length")),
    ("error-500", BOTH, None, Fails()),
    ("error-502", ("openrouter",), None, Fails(reason="model is down")),
    ("error-503", BOTH, None, Fails(reason="overloaded")),
    ("error-524", ("openrouter",), None, Fails(UpstreamTimeoutError, "upstream_timeout")),
    ("error-529", ("openrouter",), None, Fails(reason="overloaded")),
    # After the first piece of text: never retryable, whatever the status said.
    ("midstream-error", BOTH, True, Fails(retryable="false", reason="")),
    ("midstream-error-text-code", ("openrouter",), True, Fails(retryable="false", reason="reset")),
    ("midstream-error-no-choices", ("openrouter",), True, Fails(retryable="false", reason="reset")),
    ("midstream-error-done", ("openrouter",), True, Fails(retryable="false", reason="reset")),
    ("midstream-error-raw", BOTH, True, Fails(retryable="false")),
    ("vllm-midstream-error", ("openrouter",), True, Fails(retryable="false", reason="reset")),
    ("openai-midstream-error", ("openrouter",), True, Fails(retryable="false", reason="server had an error")),
    ("drop", BOTH, True, Fails(retryable="false")),
    ("no-finish", BOTH, True, Fails(retryable="false", reason="without a finish reason")),
    # Non-streaming: OpenRouter's 200 whose body is an error; Gemini's 500; a body cut short.
    ("midstream-error", ("openrouter",), False, Fails(reason="reset")),
    ("midstream-error-no-choices", ("openrouter",), False, Fails(reason="reset")),
    ("openai-midstream-error", ("openrouter",), False, Fails(reason="server had an error")),
    ("midstream-error", ("gemini",), False, Fails(reason="internal error")),
    ("drop", ("openrouter",), False, Fails(retryable="false")),  # the upstream had started answering
]
CASES = [
    pytest.param(
        service, scenario, stream, outcome, id=f"{service}-{scenario}-{'stream' if stream else 'whole'}"
    )
    for scenario, services, streams, outcome in TABLE
    for service in services
    for stream in ((False, True) if streams is None else (streams,))
]


async def answer(provider: Provider, model: str, stream: bool) -> Completion:
    if not stream:
        return await provider.complete(ask(model))
    text, end = await collect(provider, ask(model))
    return Completion(text, end.model, end.finish_reason, end.usage)


@pytest.mark.parametrize(("service", "scenario", "stream", "outcome"), CASES)
async def test_each_scenario_gives_its_answer_or_its_error(
    openrouter: OpenAICompatibleProvider,
    gemini: GeminiProvider,
    service: str,
    scenario: str,
    stream: bool,
    outcome: Ok | Fails,
) -> None:
    provider: Provider = openrouter if service == "openrouter" else gemini
    model = f"{MODELS[service]}@{scenario}"
    if isinstance(outcome, Ok):
        got = await answer(provider, model, stream)
        healthy = await answer(provider, MODELS[service], stream)
        assert got.finish_reason == outcome.finish
        assert got.usage.source == "provider"
        assert got.usage.completion_tokens > 0 or scenario == "blocked"
        if not outcome.text:
            assert got.text == ""
        elif outcome.finish == "stop":
            # Whatever the framing, dialect or splitting, the same text comes out, U+2028 and all.
            expected = (
                await answer(provider, f"{MODELS[service]}@unicode", stream)
                if scenario == "unicode"
                else healthy
            )
            assert got.text == expected.text and got.usage.prompt_tokens == healthy.usage.prompt_tokens
        else:
            assert got.text and healthy.text.startswith(got.text)
        return
    with pytest.raises(UpstreamError) as raised:
        await answer(provider, model, stream)
    err = raised.value
    assert type(err) is outcome.error and err.code == outcome.code, err.message
    assert err.details["retryable"] == outcome.retryable, err.message
    assert err.details.get("retry_after") == outcome.retry_after
    assert outcome.reason in err.message
