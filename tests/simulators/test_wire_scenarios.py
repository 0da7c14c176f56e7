"""What each scenario looks like on the wire, dialect by dialect (upstream-protocols §5)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from aihub_core.simulators import SCENARIO_HEADER, GeminiSimulator, OpenRouterSimulator
from tests.waiting import eventually

OR_MODEL = "x-ai/grok-beta"
GEMINI_MODEL = "gemini-2.5-flash"


def chat(scenario: str, **overrides: Any) -> dict[str, Any]:
    return {"model": f"{OR_MODEL}@{scenario}", "messages": [{"role": "user", "content": "Hi"}], **overrides}


async def reads(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> list[bytes]:
    async with client.stream("POST", url, json=body) as response:
        assert response.status_code == 200
        return [chunk async for chunk in response.aiter_raw()]


async def chunks(client: httpx.AsyncClient, sim: OpenRouterSimulator, body: dict[str, Any]) -> list[Any]:
    raw = b"".join(await reads(client, sim.base_url + "/chat/completions", {**body, "stream": True}))
    blocks = [b for b in raw.decode().split("\n\n") if b.startswith("data: ")]
    assert blocks[-1] == "data: [DONE]"
    return [json.loads(b.removeprefix("data: ")) for b in blocks[:-1]]


def has_null(value: Any) -> bool:
    if isinstance(value, dict):
        return any(v is None or has_null(v) for v in value.values())
    return isinstance(value, list) and any(has_null(v) for v in value)


async def test_vllm_omits_nulls_and_streams_delta_reasoning(
    openrouter_sim: OpenRouterSimulator, client: httpx.AsyncClient
) -> None:
    got = await chunks(client, openrouter_sim, chat("vllm", stream_options={}))
    assert not any(has_null(c) for c in got) and got[0]["id"].startswith("chatcmpl-")
    assert any(c["choices"] and "reasoning" in c["choices"][0]["delta"] for c in got)
    assert got[-1]["choices"] == [] and got[-1]["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0


async def test_ollama_and_llamacpp_dialects(
    openrouter_sim: OpenRouterSimulator, client: httpx.AsyncClient
) -> None:
    ollama = await chunks(client, openrouter_sim, chat("ollama"))
    assert all(c["choices"][0]["delta"]["role"] == "assistant" for c in ollama)
    assert {c["system_fingerprint"] for c in ollama} == {"fp_ollama"} and "usage" not in ollama[-1]
    llama = await chunks(client, openrouter_sim, chat("llamacpp"))  # usage never asked for
    assert llama[-1]["choices"] == [] and {"usage", "timings"} <= set(llama[-1])
    assert "role" not in llama[1]["choices"][0]["delta"]


async def test_openai_sends_usage_null_and_the_usage_chunk_only_when_asked(
    openrouter_sim: OpenRouterSimulator, client: httpx.AsyncClient
) -> None:
    asked = await chunks(client, openrouter_sim, chat("openai", stream_options={"include_usage": True}))
    assert all(c["usage"] is None for c in asked[:-1]) and asked[-1]["usage"]["total_tokens"] > 0
    assert asked[0]["choices"][0]["delta"] == {"role": "assistant", "refusal": None, "content": ""}
    assert all(c["usage"] is None for c in await chunks(client, openrouter_sim, chat("openai")))
    url = openrouter_sim.base_url + "/chat/completions"
    refused = await client.post(url, json=chat("openai", stream_options={"include_usage": True}))
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "stream_options"


async def test_two_choices_interleave_each_with_its_finish(
    openrouter_sim: OpenRouterSimulator, client: httpx.AsyncClient
) -> None:
    got = await chunks(client, openrouter_sim, chat("n-2"))
    indexes = [choice["index"] for c in got for choice in c["choices"]]
    assert indexes[1:5] == [1, 0, 1, 0]
    finishes = [ch["index"] for c in got for ch in c["choices"] if ch["finish_reason"]]
    assert sorted(finishes) == [0, 1]


async def test_tool_call_arguments_come_as_string_fragments(
    openrouter_sim: OpenRouterSimulator, client: httpx.AsyncClient
) -> None:
    got = await chunks(client, openrouter_sim, chat("tool-call"))
    calls = [
        c["choices"][0]["delta"]["tool_calls"][0]
        for c in got
        if c["choices"] and "tool_calls" in c["choices"][0]["delta"]
    ]
    assert calls[0]["id"].startswith("call_") and calls[0]["function"] == {
        "name": "get_weather",
        "arguments": "",
    }
    assert all(set(call) == {"index", "function"} for call in calls[1:])
    assert json.loads("".join(call["function"]["arguments"] for call in calls)) == {
        "city": "Oslo",
        "unit": "celsius",
    }
    assert got[-2]["choices"][0]["finish_reason"] == "tool_calls"


@pytest.mark.parametrize(
    ("scenario", "code", "choices", "done"),
    [
        ("midstream-error", 502, 1, False),
        ("midstream-error-text-code", "server_error", 1, False),
        ("midstream-error-no-choices", 502, 0, False),
        ("midstream-error-done", 502, 1, True),
    ],
)
async def test_midstream_error_variants(
    openrouter_sim: OpenRouterSimulator,
    client: httpx.AsyncClient,
    scenario: str,
    code: object,
    choices: int,
    done: bool,
) -> None:
    raw = b"".join(
        await reads(client, openrouter_sim.base_url + "/chat/completions", chat(scenario, stream=True))
    )
    blocks = [b for b in raw.decode().split("\n\n") if b.startswith("data: ")]
    assert (blocks[-1] == "data: [DONE]") is done
    error = json.loads(blocks[-2 if done else -1].removeprefix("data: "))
    assert error["error"]["code"] == code and len(error["choices"]) == choices


@pytest.mark.parametrize("status", [402, 408, 413, 524, 529])
async def test_more_errors_in_openrouters_shape(
    openrouter_sim: OpenRouterSimulator, client: httpx.AsyncClient, status: int
) -> None:
    answer = await client.post(openrouter_sim.base_url + "/chat/completions", json=chat(f"error-{status}"))
    assert answer.status_code == status and answer.json()["error"]["code"] == status
    assert answer.json()["error"]["metadata"]["error_type"]


async def test_openai_429s_with_and_without_retry_headers(
    openrouter_sim: OpenRouterSimulator, client: httpx.AsyncClient
) -> None:
    url = openrouter_sim.base_url + "/chat/completions"
    limited = await client.post(url, json=chat("error-429-retry-ms"))
    assert (limited.headers["retry-after"], limited.headers["retry-after-ms"]) == ("1", "250")
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    quota = await client.post(url, json=chat("insufficient-quota"))
    assert quota.status_code == 429 and "retry-after" not in quota.headers
    assert quota.json()["error"]["type"] == quota.json()["error"]["code"] == "insufficient_quota"
    legacy = await client.post(url, json=chat("vllm-legacy-error"))
    assert legacy.json()["object"] == "error" and legacy.json()["code"] == 400


async def test_the_model_list_and_the_key(client: httpx.AsyncClient) -> None:
    async with OpenRouterSimulator(chunk_delay_ms=0, api_key="sk-or-v1-abcdef123456") as sim:
        listed = (await client.get(sim.base_url + "/models")).json()["data"]
        router = next(m for m in listed if m["id"] == "openrouter/auto")
        assert router["pricing"]["prompt"] == "-1" and router["context_length"] is None
        assert any("image" in m["architecture"]["input_modalities"] for m in listed if m is not router)
        key = await client.get(
            sim.base_url + "/key", headers={"Authorization": "Bearer sk-or-v1-abcdef123456"}
        )
        assert key.json()["data"]["label"].startswith("sk-or-v1-") and "limit_remaining" in key.json()["data"]
        assert (await client.get(sim.base_url + "/key")).status_code == 401


async def test_split_at_cuts_the_body_at_those_offsets(
    openrouter_sim: OpenRouterSimulator, client: httpx.AsyncClient
) -> None:
    got = await reads(
        client, openrouter_sim.base_url + "/chat/completions", chat("split-at-30,31,100", stream=True)
    )
    ends = [sum(len(r) for r in got[: i + 1]) for i in range(len(got))]
    assert {30, 31, 100} <= set(ends)


async def test_a_dropped_stream_has_no_end(
    openrouter_sim: OpenRouterSimulator, client: httpx.AsyncClient
) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        await reads(client, openrouter_sim.base_url + "/chat/completions", chat("drop", stream=True))


async def gemini_raw(
    client: httpx.AsyncClient, sim: GeminiSimulator, scenario: str, alt: bool = True
) -> bytes:
    url = f"{sim.base_url}/models/{GEMINI_MODEL}@{scenario}:streamGenerateContent" + (
        "?alt=sse" if alt else ""
    )
    body = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}
    return b"".join(await reads(client, url, body))


def gemini_chunks(raw: bytes) -> list[Any]:
    return [json.loads(b.removeprefix(b"data: ")) for b in raw.split(b"\r\n\r\n") if b]


async def test_gemini_raw_error_and_json_array(
    gemini_sim: GeminiSimulator, client: httpx.AsyncClient
) -> None:
    raw = await gemini_raw(client, gemini_sim, "midstream-error-raw")
    last = raw.split(b"\r\n\r\n")[-2]
    assert last.startswith(b'{\n  "error": {') and json.loads(last)["error"]["status"] == "UNAVAILABLE"
    array = await gemini_raw(client, gemini_sim, "json-array")
    assert array.startswith(b"[{\n") and b",\r\n{" in array and b"data:" not in array
    assert json.loads(array)[-1]["candidates"][0]["finishReason"] == "STOP"


@pytest.mark.parametrize(
    ("scenario", "check"),
    [
        ("single-chunk", lambda c: len(c) == 1 and c[0]["candidates"][0]["finishReason"] == "STOP"),
        ("empty-final", lambda c: c[-1]["candidates"][0]["content"]["parts"] == [{"text": ""}]),
        (
            "max-tokens-empty",
            lambda c: (
                c[-1]["candidates"][0]["finishReason"] == "MAX_TOKENS"
                and "parts" not in c[-1]["candidates"][0]["content"]
            ),
        ),
        (
            "safety-candidate",
            lambda c: (
                "content" not in c[-1]["candidates"][0]
                and c[-1]["candidates"][0]["safetyRatings"][0]["blocked"] is True
            ),
        ),
        (
            "tool-call",
            lambda c: (
                c[-1]["candidates"][0]["content"]["parts"][0]["functionCall"]["args"]
                == {"city": "Oslo", "unit": "celsius"}
                and c[-1]["candidates"][0]["finishMessage"]
            ),
        ),
        ("n-2", lambda c: [x["index"] for x in c[0]["candidates"]] == [1, 0]),
    ],
)
async def test_gemini_answer_shapes(
    gemini_sim: GeminiSimulator, client: httpx.AsyncClient, scenario: str, check: Any
) -> None:
    got = [c for c in gemini_chunks(await gemini_raw(client, gemini_sim, scenario)) if "candidates" in c]
    assert check(got)


async def test_gemini_per_day_quota(gemini_sim: GeminiSimulator, client: httpx.AsyncClient) -> None:
    url = f"{gemini_sim.base_url}/models/{GEMINI_MODEL}@insufficient-quota:generateContent"
    error = (await client.post(url, json={"contents": [{"parts": [{"text": "Hi"}]}]})).json()["error"]
    assert "PerDay" in error["details"][0]["violations"][0]["quotaId"]


@pytest.mark.parametrize(
    ("dialect", "owner"), [("openai", "system"), ("vllm", "vllm"), ("ollama", "library")]
)
async def test_openai_compatible_model_lists_carry_ids_not_prices(
    openrouter_sim: OpenRouterSimulator, client: httpx.AsyncClient, dialect: str, owner: str
) -> None:
    answer = await client.get(openrouter_sim.base_url + "/models", headers={"x-aihub-sim-scenario": dialect})
    listed = answer.json()
    assert listed["object"] == "list" and listed["data"]
    entry = listed["data"][0]
    assert entry["object"] == "model" and entry["owned_by"] == owner and "pricing" not in entry
    assert ("max_model_len" in entry) == (dialect == "vllm")
    openrouter = (await client.get(openrouter_sim.base_url + "/models")).json()
    assert "pricing" in openrouter["data"][0] and "object" not in openrouter


async def test_ollama_takes_only_data_url_images(
    openrouter_sim: OpenRouterSimulator, client: httpx.AsyncClient
) -> None:
    def with_image(url: str) -> dict[str, Any]:
        parts = [{"type": "text", "text": "what is this?"}, {"type": "image_url", "image_url": {"url": url}}]
        return {"model": "x-ai/grok-vision-beta@ollama", "messages": [{"role": "user", "content": parts}]}

    url = openrouter_sim.base_url + "/chat/completions"
    remote = await client.post(url, json=with_image("https://example.com/cat.png"))
    assert remote.status_code == 400 and remote.json()["error"]["message"] == "invalid image input"
    inline = await client.post(url, json=with_image("data:image/png;base64,iVBORw0KGgo="))
    assert inline.status_code == 200


async def held_until_released(
    client: httpx.AsyncClient, sim: OpenRouterSimulator | GeminiSimulator, url: str, body: dict[str, Any]
) -> None:
    """`url` with the `held` scenario waits for `release()`, while the same request without it is
    answered meanwhile."""
    sim.scenario = "held"
    answer = asyncio.ensure_future(client.post(url, json=body))
    await eventually(lambda: len(sim.requests) == 1, "the held request arrives")
    healthy = await client.post(url, json=body, headers={SCENARIO_HEADER: "healthy"})
    assert healthy.status_code == 200 and not answer.done()
    sim.release()
    assert (await answer).status_code == 200


async def test_a_held_request_answers_once_the_simulator_is_released(
    openrouter_sim: OpenRouterSimulator, gemini_sim: GeminiSimulator, client: httpx.AsyncClient
) -> None:
    await held_until_released(
        client,
        openrouter_sim,
        f"{openrouter_sim.base_url}/chat/completions",
        {"model": OR_MODEL, "messages": [{"role": "user", "content": "Hi"}]},
    )
    gemini = f"{gemini_sim.base_url}/models/{GEMINI_MODEL}:generateContent"
    await held_until_released(
        client, gemini_sim, gemini, {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}
    )
