"""Upstream scenarios end to end: simulator -> adapter -> core -> REST and gRPC, whole and streamed.

Each row says what a caller must see: the answer (text, usage, cost = tokens x catalog prices,
finish reason), or the error: a 5xx `api_error` before the stream starts, an SSE `error` event
(gRPC: the status after some content) once text has gone out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from aihub.v1 import chat_service_pb2 as chat_pb
from aihub.v1 import chat_service_pb2_grpc as chat_grpc
from aihub_core.app import Core
from aihub_core.catalog import load_builtin_catalog
from tests.conftest import Account
from tests.e2e.sse import sse_events
from tests.fake_clock import FakeClock

CHAT = "/v1/developer/chat"
GRPC_CODES = {
    502: grpc.StatusCode.UNAVAILABLE,
    504: grpc.StatusCode.DEADLINE_EXCEEDED,
    500: grpc.StatusCode.INTERNAL,
}


@dataclass(frozen=True)
class Ok:
    finish: str = "stop"
    text: bool = True


@dataclass(frozen=True)
class Fails:
    status: int = 502  # the REST status before the stream starts
    code: str = "upstream_error"
    after_content: bool = False  # streamed: some content, then the error


OK = Ok()
MID = Fails(after_content=True)
OR, GEM = ("openrouter",), ("gemini",)
BOTH = OR + GEM
# (scenario, services, streamed or not (None: both), outcome)
TABLE: list[tuple[str, tuple[str, ...], bool | None, Ok | Fails]] = [
    ("healthy", BOTH, None, OK),
    ("unicode", BOTH, None, OK),
    ("crlf", OR, True, OK),
    ("split-at-5,6,77,300", BOTH, True, OK),
    ("openai", OR, None, OK),
    ("vllm", OR, None, OK),
    ("ollama", OR, None, OK),
    ("llamacpp", OR, None, OK),
    ("n-2", BOTH, None, OK),
    ("single-chunk", GEM, True, OK),
    ("empty-final", GEM, True, OK),
    ("json-array", GEM, True, OK),
    ("tool-call", BOTH, None, Ok("tool_calls", text=False)),
    ("max-tokens-empty", BOTH, None, Ok("length", text=False)),
    ("safety-candidate", GEM, True, Ok("content_filter")),
    ("error-402", OR, None, Fails()),
    ("error-408", OR, None, Fails(504, "upstream_timeout")),
    ("error-429-retry-ms", OR, None, Fails(code="upstream_rate_limited")),
    ("insufficient-quota", BOTH, None, Fails(code="upstream_rate_limited")),
    ("error-529", OR, None, Fails()),
    ("midstream-error", OR, False, Fails()),  # a 200 whose body is an error
    ("midstream-error-no-choices", OR, True, MID),
    ("vllm-midstream-error", OR, True, MID),
    ("midstream-error-raw", GEM, True, MID),
    ("drop", BOTH, True, MID),
    ("no-finish", BOTH, True, MID),
]
CASES = [
    pytest.param(
        service, scenario, stream, outcome, id=f"{service}-{scenario}-{'stream' if stream else 'whole'}"
    )
    for scenario, services, streams, outcome in TABLE
    for service in services
    for stream in ((False, True) if streams is None else (streams,))
]


def check_usage(service: str, usage: dict[str, Any]) -> None:
    catalog = load_builtin_catalog()
    prices = catalog.resolve(catalog.service(service).default_model, service)
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    expected = (
        usage["prompt_tokens"] * prices.prompt_price + usage["completion_tokens"] * prices.completion_price
    )
    assert usage["estimated_cost_usd"] == pytest.approx(expected)


def check_text(text: str, scenario: str, outcome: Ok) -> None:
    if not outcome.text:
        assert text == ""
    else:
        assert "simulated" in text and "\ufffd" not in text
        assert ("\u2028" in text) is (scenario == "unicode")


@pytest.mark.parametrize(("service", "scenario", "stream", "outcome"), CASES)
async def test_scenario_over_rest_and_grpc(
    core: Core,
    http: httpx.AsyncClient,
    channel: grpc.aio.Channel,
    clock: FakeClock,
    account: Account,
    service: str,
    scenario: str,
    stream: bool,
    outcome: Ok | Fails,
) -> None:
    core.upstreams.simulators[service].scenario = scenario
    await over_rest(http, account, service, scenario, stream, outcome)
    await over_grpc(channel, account, service, scenario, stream, outcome)
    if scenario == "error-429-retry-ms":  # the provider's `retry-after-ms: 250` is what is waited
        assert clock.slept == [0.25] * 4  # two retries over REST, two over gRPC
    elif isinstance(outcome, Ok):
        assert clock.slept == []


async def over_rest(
    http: httpx.AsyncClient, account: Account, service: str, scenario: str, stream: bool, outcome: Ok | Fails
) -> None:
    body = {"message": "hi", "service": service}
    if not stream:
        answer = await http.post(CHAT, json=body, headers=account.key_auth)
        if isinstance(outcome, Fails):
            assert answer.status_code == outcome.status, answer.text
            assert answer.json()["error"]["type"] == "api_error"
            assert answer.json()["error"]["code"] == outcome.code
            return
        assert answer.status_code == 200, answer.text
        data = answer.json()
        check_text(data["message"], scenario, outcome)
        check_usage(service, data["usage"])
        assert data["metadata"]["finish_reason"] == outcome.finish
        return
    async with http.stream("POST", f"{CHAT}/stream", json=body, headers=account.key_auth) as response:
        if isinstance(outcome, Fails) and not outcome.after_content:
            await response.aread()
            assert response.status_code == outcome.status
            assert response.headers["content-type"].startswith("application/json")
            assert response.json()["error"]["code"] == outcome.code
            return
        assert response.status_code == 200
        events = await sse_events(response)
    kinds = [e["type"] for e in events]
    text = "".join(e["content"] for e in events if e["type"] == "content")
    if isinstance(outcome, Fails):
        assert kinds[0] == "content" and kinds[-1] == "error" and "done" not in kinds
        assert events[-1]["error"]["type"] == "api_error"
        return
    assert kinds[-3:] == ["session", "usage", "done"]
    check_text(text, scenario, outcome)
    check_usage(service, events[-2]["usage"])


def bearer(key: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {key}"),)


def usage_dict(usage: chat_pb.Usage) -> dict[str, Any]:
    fields = ("prompt_tokens", "completion_tokens", "total_tokens", "estimated_cost_usd")
    return {name: getattr(usage, name) for name in fields}


async def over_grpc(
    channel: grpc.aio.Channel,
    account: Account,
    service: str,
    scenario: str,
    stream: bool,
    outcome: Ok | Fails,
) -> None:
    stub = chat_grpc.ChatServiceStub(channel)
    events: list[chat_pb.StreamChatResponse] = []
    try:
        if stream:
            async for event in stub.StreamChat(
                chat_pb.StreamChatRequest(message="hi", service=service), metadata=bearer(account.key)
            ):
                events.append(event)
        else:
            answer = await stub.Chat(
                chat_pb.ChatRequest(message="hi", service=service), metadata=bearer(account.key)
            )
    except grpc.aio.AioRpcError as err:
        assert isinstance(outcome, Fails), err.details()
        assert err.code() == GRPC_CODES[outcome.status]
        status = rpc_status.from_call(err)
        assert status is not None
        info = error_details_pb2.ErrorInfo()
        assert any(d.Unpack(info) for d in status.details) and info.reason == outcome.code.upper()
        kinds = [e.WhichOneof("event") for e in events]
        assert ("content" in kinds) is (stream and outcome.after_content)
        return
    assert isinstance(outcome, Ok)
    if stream:
        kinds = [e.WhichOneof("event") for e in events]
        assert kinds[-3:] == ["session", "usage", "done"]
        text = "".join(e.content.content for e in events if e.WhichOneof("event") == "content")
        usage, metadata = events[-2].usage.usage, events[-2].usage.metadata
    else:
        text, usage, metadata = answer.message, answer.usage, answer.metadata
    check_text(text, scenario, outcome)
    check_usage(service, usage_dict(usage))
    assert metadata.finish_reason == outcome.finish
