from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from aihub_core.simulators import SCENARIO_HEADER, GeminiSimulator, OpenRouterSimulator
from tests.simulators.conftest import cuts_a_character

MODEL = "x-ai/grok-beta"


def chat(**overrides: Any) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": "Hello"}], **overrides}


async def raw_stream(client: httpx.AsyncClient, url: str, body: dict[str, Any], **kw: Any) -> list[bytes]:
    async with client.stream(
        "POST", url + "/chat/completions", json={**body, "stream": True}, **kw
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream"
        return [chunk async for chunk in response.aiter_raw()]


def events(raw: bytes) -> list[str]:
    return [block for block in raw.decode().split("\n\n") if block]


async def test_a_stream_looks_like_openrouter(
    openrouter_sim: OpenRouterSimulator, client: httpx.AsyncClient
) -> None:
    blocks = events(b"".join(await raw_stream(client, openrouter_sim.base_url, chat())))
    assert blocks[0] == ": OPENROUTER PROCESSING"
    assert ": OPENROUTER PROCESSING" in blocks[3:]  # keep-alives come between events too
    assert blocks[-1] == "data: [DONE]"
    chunks = [json.loads(b.removeprefix("data: ")) for b in blocks if b.startswith("data: {")]
    assert len({c["id"] for c in chunks}) == 1 and chunks[0]["id"].startswith("gen-")
    assert all(c["provider"] and c["model"] == MODEL for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    *_, finish, usage = chunks
    assert finish["choices"][0]["finish_reason"] == "stop"
    assert usage["choices"] == []
    assert (
        usage["usage"]["total_tokens"]
        == usage["usage"]["prompt_tokens"] + usage["usage"]["completion_tokens"]
    )
    pricing = openrouter_sim.models[MODEL]
    expected_cost = usage["usage"]["prompt_tokens"] * float(pricing.prompt_price) + usage["usage"][
        "completion_tokens"
    ] * float(pricing.completion_price)
    assert usage["usage"]["cost"] == pytest.approx(expected_cost)
    text_chunks = [c for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")]
    assert len(text_chunks) >= 3
    assert "simulated" in "".join(c["choices"][0]["delta"]["content"] for c in text_chunks)


async def test_a_whole_answer_is_deterministic_and_honours_max_tokens(
    openrouter_sim: OpenRouterSimulator, client: httpx.AsyncClient
) -> None:
    url = openrouter_sim.base_url + "/chat/completions"
    first, again = [(await client.post(url, json=chat())).json() for _ in range(2)]
    assert first["choices"][0]["message"]["content"] == again["choices"][0]["message"]["content"]
    assert first["id"].startswith("gen-") and first["object"] == "chat.completion"
    assert 40 <= first["usage"]["completion_tokens"] <= 80
    cut = (await client.post(url, json=chat(max_tokens=5))).json()
    assert (cut["usage"]["completion_tokens"], cut["choices"][0]["finish_reason"]) == (5, "length")
    other = (await client.post(url, json=chat(messages=[{"role": "user", "content": "Other"}]))).json()
    assert other["choices"][0]["message"]["content"] != first["choices"][0]["message"]["content"]


async def test_prompt_tokens_grow_with_text_and_images(
    openrouter_sim: OpenRouterSimulator, client: httpx.AsyncClient
) -> None:
    url = openrouter_sim.base_url + "/chat/completions"

    async def prompt_tokens(content: Any) -> int:
        body = chat(messages=[{"role": "user", "content": content}])
        return int((await client.post(url, json=body)).json()["usage"]["prompt_tokens"])

    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    short, long = await prompt_tokens("Hi"), await prompt_tokens("Hi " * 100)
    with_image = await prompt_tokens([{"type": "text", "text": "Hi"}, image])
    assert long - short == 75 - 1  # ceil(300 bytes / 4) - ceil(2 bytes / 4)
    assert with_image > short


async def test_the_model_list_has_string_prices(
    openrouter_sim: OpenRouterSimulator, client: httpx.AsyncClient
) -> None:
    listed = (await client.get(openrouter_sim.base_url + "/models")).json()["data"]
    grok = next(m for m in listed if m["id"] == MODEL)
    assert grok["pricing"]["prompt"] == "0.000002" and isinstance(grok["pricing"]["completion"], str)
    assert grok["context_length"] == 131072
    # Text-output models only, as OpenRouter lists them: its embedding models have a list of their own.
    chat = {model_id for model_id, model in openrouter_sim.models.items() if model.chat}
    assert {m["id"] for m in listed} == {*chat, "openrouter/auto"}
    embedding = "openai/text-embedding-3-small"
    assert embedding in openrouter_sim.models and embedding not in chat


async def test_errors_have_openrouters_shape(
    openrouter_sim: OpenRouterSimulator, client: httpx.AsyncClient
) -> None:
    url = openrouter_sim.base_url + "/chat/completions"
    unknown = await client.post(url, json=chat(model="nobody/nothing"))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == 404
    limited = await client.post(url, json=chat(model=f"{MODEL}@error-429"))
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "12")
    assert limited.json()["error"]["metadata"]["error_type"] == "rate_limit_exceeded"
    bad = await client.post(url, json={"model": MODEL})
    assert bad.status_code == 400
    not_json = await client.post(url, content=b"{nope")
    assert not_json.status_code == 400
    assert (await client.get(openrouter_sim.base_url + "/nowhere")).status_code == 404


async def test_the_scenario_comes_from_header_then_suffix_then_attribute(
    openrouter_sim: OpenRouterSimulator, client: httpx.AsyncClient
) -> None:
    url = openrouter_sim.base_url + "/chat/completions"
    header = {SCENARIO_HEADER: "error-500"}
    assert (await client.post(url, json=chat(), headers=header)).status_code == 500
    assert (await client.post(url, json=chat(model=f"{MODEL}@error-503"), headers=header)).status_code == 500
    openrouter_sim.scenario = "error-401"
    assert (await client.post(url, json=chat(model=f"{MODEL}@error-503"))).status_code == 503
    assert (await client.post(url, json=chat())).status_code == 401
    unknown = await client.post(url, json=chat(model=f"{MODEL}@no-such-scenario"))
    assert unknown.status_code == 400 and "error-500" in unknown.json()["error"]["message"]


async def test_the_key_is_checked_when_configured(client: httpx.AsyncClient) -> None:
    async with OpenRouterSimulator(chunk_delay_ms=0, api_key="sk-or-v1-right") as sim:
        url = sim.base_url + "/chat/completions"
        assert (await client.post(url, json=chat())).status_code == 401
        assert (
            await client.post(url, json=chat(), headers={"authorization": "Bearer wrong"})
        ).status_code == 401
        ok = await client.post(url, json=chat(), headers={"authorization": "Bearer sk-or-v1-right"})
        assert ok.status_code == 200


async def test_unicode_writes_split_inside_characters(
    openrouter_sim: OpenRouterSimulator, client: httpx.AsyncClient
) -> None:
    reads = await raw_stream(client, openrouter_sim.base_url, chat(model=f"{MODEL}@unicode"))
    assert any(cuts_a_character(read) for read in reads)  # some read ends inside a UTF-8 sequence
    whole = b"".join(reads).decode()
    assert "\u2028" in whole and "🙂" in whole  # sent raw, not as \u escapes


async def test_chunks_are_paced(client: httpx.AsyncClient) -> None:
    async with OpenRouterSimulator(chunk_delay_ms=30) as sim:
        started = time.monotonic()
        await raw_stream(client, sim.base_url, chat(max_tokens=18))  # three pieces of text
        assert time.monotonic() - started >= 0.09


async def test_two_simulators_run_side_by_side(client: httpx.AsyncClient) -> None:
    async with OpenRouterSimulator(chunk_delay_ms=0) as one, OpenRouterSimulator(chunk_delay_ms=0) as two:
        assert one.base_url != two.base_url
        answers = await asyncio.gather(
            *(client.post(sim.base_url + "/chat/completions", json=chat()) for sim in (one, two))
        )
        assert [a.status_code for a in answers] == [200, 200]
        assert (len(one.requests), len(two.requests)) == (1, 1)
    async with GeminiSimulator(chunk_delay_ms=0) as gemini, OpenRouterSimulator(chunk_delay_ms=0) as router:
        assert gemini.base_url.endswith("/v1beta") and router.base_url.endswith("/api/v1")
