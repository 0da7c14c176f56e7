"""The `openai` Python package against a real gateway: each error class the SDK raises, from
OpenAI-shaped error bodies with the developer API's statuses; Retry-After honoured; a stream that
fails midway; Idempotency-Key replays; a client that leaves cancels the upstream call."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import openai
import pytest
from openai import _base_client

from aihub_core.app import Core
from tests.conftest import Account
from tests.e2e.test_upstream_timing import CLOSE_BUDGET, gone_within
from tests.openai_sdk.client import openai_client
from tests.waiting import eventually

HI: Any = [{"role": "user", "content": "hi"}]


async def new_key(http: httpx.AsyncClient, account: Account, **body: Any) -> str:
    created = await http.post("/v1/developer/api-keys", json={"name": "k", **body}, headers=account.jwt_auth)
    assert created.status_code == 201, created.text
    return str(created.json()["key"])


def error_of(exc: openai.APIStatusError) -> dict[str, Any]:
    """The error object, checked for OpenAI's shape and our request id."""
    body = exc.response.json()
    assert set(body) == {"error", "request_id"} and body["request_id"] == exc.request_id
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert exc.code == body["error"]["code"] and exc.param == body["error"]["param"]
    return dict(body["error"])


async def test_authentication_and_permission_errors(http: httpx.AsyncClient, account: Account) -> None:
    async with openai_client(http, "ai-hub-" + "x" * 43) as client:
        with pytest.raises(openai.AuthenticationError) as unknown:
            await client.chat.completions.create(model="x-ai/grok-beta", messages=HI)
    assert unknown.value.status_code == 401 and error_of(unknown.value)["type"] == "authentication_error"
    models_only = await new_key(http, account, permissions=["models"])
    chat_only = await new_key(http, account, permissions=["chat"])
    async with openai_client(http, models_only) as client:
        with pytest.raises(openai.PermissionDeniedError) as chat:
            await client.chat.completions.create(model="x-ai/grok-beta", messages=HI)
        with pytest.raises(openai.PermissionDeniedError):
            await client.embeddings.create(model="text-embedding-004", input="hi")
        assert [m async for m in client.models.list()]
    assert error_of(chat.value)["code"] == "insufficient_permissions"
    async with openai_client(http, chat_only) as client:
        with pytest.raises(openai.PermissionDeniedError):
            await client.models.list()


async def test_not_found_errors_name_the_model(http: httpx.AsyncClient, account: Account) -> None:
    async with openai_client(http, account.key) as client:
        with pytest.raises(openai.NotFoundError) as chat:
            await client.chat.completions.create(model="no/such-model", messages=HI)
        with pytest.raises(openai.NotFoundError) as model:
            await client.models.retrieve("no/such-model")
        with pytest.raises(openai.NotFoundError):
            await client.embeddings.create(model="no/such-model", input="hi")
    for error in (error_of(chat.value), error_of(model.value)):
        assert (error["code"], error["param"], error["type"]) == (
            "model_not_found",
            "model",
            "invalid_request_error",
        )


@pytest.mark.parametrize(
    ("extra", "code", "param"),
    [
        ({"n": 2}, "unsupported_parameter", "n"),
        ({"logprobs": True}, "unsupported_parameter", "logprobs"),
        ({"temperature": 2.5}, "invalid_parameter", "temperature"),
        ({"max_completion_tokens": 10**7}, "invalid_parameter", "max_completion_tokens"),
        ({"max_tokens": 0}, "invalid_parameter", "max_tokens"),
        ({"extra_body": {"best_of": 2}}, "unknown_parameter", "best_of"),
        ({"tool_choice": "required"}, "invalid_parameter", "tool_choice"),
        ({"model": "text-embedding-004"}, "model_not_chat", "model"),
        (
            {
                "model": "gemini-2.5-flash",
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}],
                    }
                ],
            },
            "image_url_not_supported",
            "messages[0].content[0].image_url.url",
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]},
            "invalid_parameter",
            "messages[0].content[0].type",
        ),
        (
            {"messages": [{"role": "tool", "tool_call_id": "call_1", "content": "x"}]},
            "invalid_parameter",
            "messages[0].tool_call_id",
        ),
    ],
)
async def test_bad_requests_name_openais_parameter(
    http: httpx.AsyncClient, account: Account, extra: dict[str, Any], code: str, param: str
) -> None:
    arguments: dict[str, Any] = {"model": "x-ai/grok-beta", "messages": HI, **extra}
    async with openai_client(http, account.key) as client:
        with pytest.raises(openai.BadRequestError) as refused:
            await client.chat.completions.create(**arguments)
    error = error_of(refused.value)
    assert (error["code"], error["param"], error["type"]) == (code, param, "invalid_request_error")
    assert param in error["message"]


async def test_a_rate_limit_is_a_429_whose_retry_after_the_sdk_waits(
    http: httpx.AsyncClient, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = await new_key(http, account, rate_limit={"requests_per_minute": 1})
    async with openai_client(http, key) as client:
        await client.chat.completions.create(model="x-ai/grok-beta", messages=HI)
        with pytest.raises(openai.RateLimitError) as limited:
            await client.chat.completions.create(model="x-ai/grok-beta", messages=HI)
    headers = limited.value.response.headers
    assert int(headers["retry-after"]) >= 1 and headers["x-ratelimit-remaining"] == "0"
    assert error_of(limited.value)["type"] == "rate_limit_error"

    waits: list[float] = []

    class Sleepless:
        """anyio as the SDK's client sees it, with its retry sleep recorded instead of waited."""

        def __getattr__(self, name: str) -> Any:
            return getattr(anyio, name)

        async def sleep(self, seconds: float) -> None:
            waits.append(seconds)

    monkeypatch.setattr(_base_client, "anyio", Sleepless())
    async with openai_client(http, key, max_retries=1) as client:
        with pytest.raises(openai.RateLimitError) as again:
            await client.chat.completions.create(model="x-ai/grok-beta", messages=HI)
    # The SDK waited what the gateway asked (whole seconds; its own backoff would be under one)
    # before its one retry, which was refused again.
    asked = {float(headers["retry-after"]), float(again.value.response.headers["retry-after"])}
    assert len(waits) == 1 and waits[0] in asked


async def test_upstream_failures_are_internal_server_errors(
    core: Core, http: httpx.AsyncClient, account: Account
) -> None:
    simulator = core.upstreams.simulators["openrouter"]
    simulator.scenario = "error-500"
    async with openai_client(http, account.key) as client:
        with pytest.raises(openai.InternalServerError) as failed:
            await client.chat.completions.create(model="x-ai/grok-beta", messages=HI)
        assert failed.value.status_code >= 500 and error_of(failed.value)["type"] == "api_error"

        simulator.scenario = "midstream-error"
        stream = await client.chat.completions.create(
            model="x-ai/grok-beta",
            messages=HI,
            stream=True,
        )
        seen: list[str] = []
        with pytest.raises(openai.APIError) as midway:
            async for chunk in stream:
                seen.append(chunk.choices[0].delta.content or "")
    assert seen and "".join(seen)  # what was generated came first
    assert isinstance(midway.value.body, dict) and midway.value.body["code"] == "upstream_error"


async def test_an_idempotency_key_replays_the_answer(
    core: Core, http: httpx.AsyncClient, account: Account
) -> None:
    async with openai_client(http, account.key) as client:
        answers = [
            await client.chat.completions.create(
                model="x-ai/grok-beta",
                messages=HI,
                extra_headers={"Idempotency-Key": "order-42"},
            )
            for _ in range(2)
        ]
    first, again = (a.model_dump(exclude={"created"}) for a in answers)
    assert first == again
    quota = (await http.get("/v1/developer/quota", headers=account.key_auth)).json()
    assert quota["quota_used"] == 1


async def test_a_client_that_leaves_closes_the_upstream_at_once(
    core: Core, http: httpx.AsyncClient, account: Account
) -> None:
    core.upstreams.simulators["openrouter"].scenario = "stall"
    async with openai_client(http, account.key) as client:
        stream = await client.chat.completions.create(
            model="x-ai/grok-beta",
            messages=HI,
            stream=True,
        )
        async for chunk in stream:
            if chunk.choices[0].delta.content:
                break  # the first content arrived; now the client goes away
        await stream.close()
    assert await gone_within(core, CLOSE_BUDGET) <= CLOSE_BUDGET
    core.upstreams.simulators["openrouter"].scenario = None

    async def recorded() -> bool:  # what was generated is still recorded
        usage = (await http.get("/v1/developer/usage", headers=account.key_auth)).json()
        return bool(usage["total_requests"] == 1 and usage["total_tokens"] > 0)

    await eventually(recorded, "the cancelled call is recorded with its tokens")
