"""The access log: one line per REST request from the shim, one per native gRPC call from the
core, with the request id, route, status, latency and a model call's model, tokens and cost;
never a key, a login token or a prompt."""

from __future__ import annotations

import json
import logging

import grpc
import httpx
import pytest

from aihub.v1 import chat_service_pb2, chat_service_pb2_grpc
from aihub_cli.logs import JsonFormatter, TextFormatter
from aihub_core.app import Core
from tests.conftest import Account
from tests.e2e.sse import sse_events

PROMPT = "my secret prompt about penguins"


def _lines(records: list[logging.LogRecord], formatter: logging.Formatter) -> str:
    return "\n".join(formatter.format(r) for r in records)


def _fields(record: logging.LogRecord) -> dict[str, object]:
    fields: dict[str, object] = record.__dict__["fields"]
    return fields


async def test_each_rest_request_gets_one_line_without_secrets(
    http: httpx.AsyncClient, account: Account, transport: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="aihub.access"):
        chat = await http.post("/v1/developer/chat", json={"message": PROMPT}, headers=account.key_auth)
        stream = http.stream(
            "POST", "/v1/developer/chat/stream", json={"message": PROMPT}, headers=account.key_auth
        )
        async with stream as response:
            events = await sse_events(response)
        missing = await http.get("/v1/developer/api-keys")
    records = [r for r in caplog.records if r.name == "aihub.access" and r.getMessage() == "http request"]
    assert [(_fields(r)["route"], _fields(r)["status"]) for r in records] == [
        ("/v1/developer/chat", 200),
        ("/v1/developer/chat/stream", 200),
        ("/v1/developer/api-keys", 401),
    ]
    first, streamed, refused = (_fields(r) for r in records)
    usage = chat.json()["usage"]
    assert first["request_id"] == chat.headers["x-request-id"] and first["method"] == "POST"
    assert first["model"] == "openrouter:x-ai/grok-beta" and isinstance(first["latency_ms"], float)
    assert (first["prompt_tokens"], first["completion_tokens"], first["cost_usd"]) == (
        usage["prompt_tokens"],
        usage["completion_tokens"],
        usage["estimated_cost_usd"],
    )
    assert streamed["request_id"] == response.headers["x-request-id"]
    assert streamed["model"] == "openrouter:x-ai/grok-beta"
    assert streamed["cost_usd"] == events[-2]["usage"]["estimated_cost_usd"]
    assert refused["request_id"] == missing.headers["x-request-id"] and "model" not in refused
    # In one process the shim calls the core in process: the shim's line is the only one. A shim
    # in front of a core elsewhere reaches it over gRPC, and the core logs each call as well.
    calls = [r for r in caplog.records if r.getMessage() == "grpc call"]
    assert len(calls) == (0 if transport == "in-process" else 3)
    for formatter in (TextFormatter(), JsonFormatter()):
        text = _lines(caplog.records, formatter)
        assert account.key not in text and account.token not in text and "penguins" not in text


async def test_a_native_grpc_call_gets_its_line_from_the_core(
    core: Core, http: httpx.AsyncClient, account: Account, caplog: pytest.LogCaptureFixture
) -> None:
    metadata = (("authorization", f"Bearer {account.key}"),)
    with caplog.at_level(logging.INFO, logger="aihub.access"):
        async with grpc.aio.insecure_channel(core.address) as channel:
            stub = chat_service_pb2_grpc.ChatServiceStub(channel)
            answer = await stub.Chat(chat_service_pb2.ChatRequest(message=PROMPT), metadata=metadata)
            with pytest.raises(grpc.aio.AioRpcError):
                await stub.Chat(chat_service_pb2.ChatRequest(message="hi"))
    calls = [_fields(r) for r in caplog.records if r.getMessage() == "grpc call"]
    assert [(c["method"], c["status"], c.get("code")) for c in calls] == [
        ("/aihub.v1.ChatService/Chat", "OK", None),
        ("/aihub.v1.ChatService/Chat", "UNAUTHENTICATED", "missing_api_key"),
    ]
    assert calls[0]["request_id"] == answer.metadata.request_id
    assert calls[0]["completion_tokens"] == answer.usage.completion_tokens
    assert calls[0]["model"] == answer.model
    assert "penguins" not in _lines(caplog.records, JsonFormatter())


def test_the_formats() -> None:
    record = logging.LogRecord("aihub.access", logging.INFO, "", 0, "http request", None, None)
    record.fields = {"request_id": "req_1", "status": 200, "model": "openrouter:x"}
    text = TextFormatter().format(record)
    assert text.endswith(" INFO aihub.access: http request request_id=req_1 status=200 model=openrouter:x")
    decoded = json.loads(JsonFormatter().format(record))
    assert decoded | {"time": ""} == {
        "time": "",
        "level": "INFO",
        "logger": "aihub.access",
        "message": "http request",
        "request_id": "req_1",
        "status": 200,
        "model": "openrouter:x",
    }
