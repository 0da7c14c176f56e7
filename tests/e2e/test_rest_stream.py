"""SSE over REST: event order, the stream flag on /chat, and failures before and after the start."""

from __future__ import annotations

import httpx

from aihub_core.app import Core
from tests.conftest import Account
from tests.e2e.sse import sse_events


async def test_stream_events_come_in_the_spec_order(http: httpx.AsyncClient, account: Account) -> None:
    async with http.stream(
        "POST", "/v1/developer/chat/stream", json={"message": "讲一个关于AI的故事"}, headers=account.key_auth
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-ratelimit-limit"] == "20" and response.headers["x-request-id"]
        events = await sse_events(response)
    kinds = [e["type"] for e in events]
    content = kinds.count("content")
    assert content >= 3 and kinds == ["content"] * content + ["session", "usage", "done"]
    assert all(e["model"] == "x-ai/grok-beta" for e in events[:content])
    usage = events[-2]["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
    assert usage["estimated_cost_usd"] > 0
    assert events[-3]["session_id"].startswith("session_")


async def test_chat_with_stream_true_streams_and_is_recorded(
    http: httpx.AsyncClient, account: Account
) -> None:
    body = {"message": "hi", "stream": True, "service": "gemini"}
    async with http.stream("POST", "/v1/developer/chat", json=body, headers=account.key_auth) as response:
        events = await sse_events(response)
    assert [e["type"] for e in events][-3:] == ["session", "usage", "done"]
    streamed_text = "".join(e["content"] for e in events if e["type"] == "content")
    session = events[-3]["session_id"]
    cost = events[-2]["usage"]["estimated_cost_usd"]
    usage = (await http.get("/v1/developer/usage", params={"period": "day"}, headers=account.key_auth)).json()
    assert usage["total_requests"] == 1 and usage["total_cost_usd"] == cost
    follow = await http.post(
        "/v1/developer/chat",
        json={"message": "again", "session_id": session, "service": "gemini"},
        headers=account.key_auth,
    )
    assert follow.status_code == 200 and streamed_text


async def test_failure_before_the_first_byte_is_a_json_error(
    core: Core, http: httpx.AsyncClient, account: Account
) -> None:
    core.upstreams.simulators["openrouter"].scenario = "error-500"
    async with http.stream(
        "POST", "/v1/developer/chat/stream", json={"message": "hi"}, headers=account.key_auth
    ) as r:
        await r.aread()
    assert r.status_code >= 500
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["error"]["type"] == "api_error"


async def test_failure_after_the_start_ends_with_an_error_event(
    core: Core, http: httpx.AsyncClient, account: Account
) -> None:
    core.upstreams.simulators["openrouter"].scenario = "midstream-error"
    async with http.stream(
        "POST", "/v1/developer/chat/stream", json={"message": "hi"}, headers=account.key_auth
    ) as r:
        assert r.status_code == 200
        events = await sse_events(r)
    kinds = [e["type"] for e in events]
    assert kinds[0] == "content" and kinds[-1] == "error" and "done" not in kinds
    assert events[-1]["error"]["type"] == "api_error"
    assert set(events[-1]["error"]) == {"type", "code", "message"}


async def test_the_documents_short_model_name_streams_and_models_list_the_aliases(
    http: httpx.AsyncClient, account: Account
) -> None:
    body = {"message": "讲一个关于AI的故事", "model": "grok-beta"}  # the spec's own stream example
    stream = http.stream("POST", "/v1/developer/chat/stream", json=body, headers=account.key_auth)
    async with stream as response:
        assert response.status_code == 200, await response.aread()
        events = await sse_events(response)
    assert events[0]["model"] == "x-ai/grok-beta" and events[-1]["type"] == "done"

    listed = (await http.get("/v1/developer/models", headers=account.key_auth)).json()["models"]
    aliases = {m["id"]: m["aliases"] for m in listed}
    assert aliases["x-ai/grok-beta"] == ["grok-beta"] and aliases["gemini-2.5-flash"] == []
