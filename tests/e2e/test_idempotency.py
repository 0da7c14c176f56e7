"""Idempotency-Key: a retry replays the stored answer; nothing is called or charged twice."""

from __future__ import annotations

import asyncio

import grpc
import httpx

from aihub.v1 import chat_service_pb2 as chat_pb
from aihub.v1 import chat_service_pb2_grpc as chat_grpc
from aihub_core.app import Core
from tests.conftest import Account
from tests.e2e.sse import sse_events
from tests.e2e.test_grpc import bearer, error_info, new_key
from tests.waiting import eventually

CHAT = "/v1/developer/chat"


def upstream_calls(core: Core, service: str = "openrouter") -> int:
    return sum(1 for r in core.upstreams.simulators[service].requests if r.path.endswith("completions"))


async def quota_used(http: httpx.AsyncClient, account: Account) -> int:
    return int((await http.get("/v1/developer/quota", headers=account.key_auth)).json()["quota_used"])


async def test_a_retried_chat_replays_the_stored_answer(
    core: Core, http: httpx.AsyncClient, account: Account
) -> None:
    headers = {**account.key_auth, "Idempotency-Key": "order-42"}
    first = await http.post(CHAT, json={"message": "hi"}, headers=headers)
    again = await http.post(CHAT, json={"message": "hi"}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()  # the same answer, usage and original request id
    assert again.headers["x-request-id"] != first.headers["x-request-id"]
    assert upstream_calls(core) == 1 and await quota_used(http, account) == 1
    assert again.headers["x-ratelimit-limit"] == "20"

    reused = await http.post(CHAT, json={"message": "something else"}, headers=headers)
    assert reused.status_code == 400
    assert (reused.json()["error"]["code"], reused.json()["error"]["details"]["parameter"]) == (
        "idempotency_key_reused",
        "Idempotency-Key",
    )
    other_key = await http.post(
        CHAT, json={"message": "hi"}, headers={**account.key_auth, "Idempotency-Key": "x"}
    )
    assert other_key.json()["message"] and upstream_calls(core) == 2


async def test_a_failed_call_frees_its_key(core: Core, http: httpx.AsyncClient, account: Account) -> None:
    headers = {**account.key_auth, "Idempotency-Key": "retry-me"}
    core.upstreams.simulators["openrouter"].scenario = "error-401"  # not retried upstream: one failure
    failed = await http.post(CHAT, json={"message": "hi"}, headers=headers)
    assert failed.status_code == 500
    core.upstreams.simulators["openrouter"].scenario = None
    retried = await http.post(CHAT, json={"message": "hi"}, headers=headers)
    assert retried.status_code == 200


async def test_a_duplicate_while_the_first_runs_is_a_conflict(
    core: Core, http: httpx.AsyncClient, account: Account
) -> None:
    upstream = core.upstreams.simulators["openrouter"]
    upstream.scenario = "held"  # the first call stays at the upstream until released
    headers = {**account.key_auth, "Idempotency-Key": "twice"}
    first = asyncio.ensure_future(http.post(CHAT, json={"message": "hi"}, headers=headers))
    await eventually(lambda: upstream_calls(core) == 1, "the first call reaches the upstream")
    second = await http.post(CHAT, json={"message": "hi"}, headers=headers)
    assert second.status_code == 409 and second.json()["error"]["code"] == "idempotency_key_in_progress"
    upstream.release()
    assert (await first).status_code == 200
    assert (await http.post(CHAT, json={"message": "hi"}, headers=headers)).json() == (await first).json()


async def test_a_retried_stream_replays_as_a_stream(
    core: Core, http: httpx.AsyncClient, account: Account
) -> None:
    headers = {**account.key_auth, "Idempotency-Key": "stream-1"}
    runs = []
    for _ in range(2):
        async with http.stream("POST", f"{CHAT}/stream", json={"message": "hi"}, headers=headers) as r:
            runs.append(await sse_events(r))
    first, replay = runs
    assert [e["type"] for e in replay] == ["content", "session", "usage", "done"]
    assert replay[0]["content"] == "".join(e["content"] for e in first if e["type"] == "content")
    assert replay[1:] == first[-3:]
    assert upstream_calls(core) == 1 and await quota_used(http, account) == 1


async def test_grpc_takes_the_key_as_metadata(core: Core, channel: grpc.aio.Channel) -> None:
    _, key = await new_key(channel)
    stub = chat_grpc.ChatServiceStub(channel)
    metadata = (*bearer(key), ("idempotency-key", "grpc-1"))
    first = await stub.Chat(chat_pb.ChatRequest(message="hi"), metadata=metadata)
    again = await stub.Chat(chat_pb.ChatRequest(message="hi"), metadata=metadata)
    assert again == first and upstream_calls(core) == 1
    bad = (*bearer(key), ("idempotency-key", "has space"))
    try:
        await stub.Chat(chat_pb.ChatRequest(message="hi"), metadata=bad)
    except grpc.aio.AioRpcError as err:
        assert error_info(err).reason == "INVALID_IDEMPOTENCY_KEY"
    else:
        raise AssertionError("a malformed key was accepted")
