from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from aihub_core.simulators import GeminiSimulator
from tests.simulators.conftest import cuts_a_character

MODEL = "gemini-2.5-flash"


def generate(text: str = "Hello", **overrides: Any) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": text}]}], **overrides}


async def raw_stream(
    client: httpx.AsyncClient, sim: GeminiSimulator, body: dict[str, Any], model: str = MODEL
) -> bytes:
    url = f"{sim.base_url}/models/{model}:streamGenerateContent?alt=sse"
    async with client.stream("POST", url, json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream"
        return b"".join([chunk async for chunk in response.aiter_raw()])


async def test_a_stream_looks_like_gemini(gemini_sim: GeminiSimulator, client: httpx.AsyncClient) -> None:
    raw = await raw_stream(client, gemini_sim, generate())
    assert raw.endswith(b"\r\n\r\n") and b"[DONE]" not in raw
    blocks = raw.split(b"\r\n\r\n")[:-1]
    assert all(b.startswith(b"data: {") for b in blocks) and len(blocks) >= 3
    chunks = [json.loads(b.removeprefix(b"data: ")) for b in blocks]
    finishes = [c["candidates"][0].get("finishReason") for c in chunks]
    assert finishes == [None] * (len(chunks) - 1) + ["STOP"]
    usage = [c["usageMetadata"] for c in chunks]
    candidates = [u["candidatesTokenCount"] for u in usage]
    assert candidates == sorted(candidates) and len(set(candidates)) == len(candidates)  # cumulative
    assert len({u["promptTokenCount"] for u in usage}) == 1
    assert all(u["thoughtsTokenCount"] > 0 for u in usage)  # 2.5 models think
    last = usage[-1]
    assert (
        last["totalTokenCount"]
        == last["promptTokenCount"] + last["candidatesTokenCount"] + last["thoughtsTokenCount"]
    )
    assert chunks[0]["modelVersion"] == MODEL and chunks[0]["responseId"]


async def test_a_whole_answer_honours_max_output_tokens(
    gemini_sim: GeminiSimulator, client: httpx.AsyncClient
) -> None:
    url = f"{gemini_sim.base_url}/models/{MODEL}:generateContent"
    whole = (await client.post(url, json=generate())).json()
    assert whole["candidates"][0]["finishReason"] == "STOP"
    assert "simulated" in whole["candidates"][0]["content"]["parts"][0]["text"]
    cut = (await client.post(url, json=generate(generationConfig={"maxOutputTokens": 12}))).json()
    used = cut["usageMetadata"]
    assert used["candidatesTokenCount"] + used["thoughtsTokenCount"] == 12
    assert cut["candidates"][0]["finishReason"] == "MAX_TOKENS"


async def test_snake_case_images_and_system_instruction_count(
    gemini_sim: GeminiSimulator, client: httpx.AsyncClient
) -> None:
    url = f"{gemini_sim.base_url}/models/{MODEL}:generateContent"
    plain = (await client.post(url, json=generate())).json()["usageMetadata"]["promptTokenCount"]
    body = {
        "system_instruction": {"parts": [{"text": "Be terse."}]},
        "contents": [
            {
                "role": "user",
                "parts": [{"text": "Hello"}, {"inline_data": {"mime_type": "image/png", "data": "iVBO"}}],
            }
        ],
        "generation_config": {"max_output_tokens": 30},
    }
    answer = (await client.post(url, json=body)).json()
    assert answer["usageMetadata"]["promptTokenCount"] == plain + 258 + 3 + 4  # image, system text, framing
    assert {"modality": "IMAGE", "tokenCount": 258} in answer["usageMetadata"]["promptTokensDetails"]
    assert (
        answer["usageMetadata"]["candidatesTokenCount"] + answer["usageMetadata"]["thoughtsTokenCount"] <= 30
    )


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (
            generate() | {"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]},
            "valid role: user, model",
        ),
        (
            generate() | {"contents": [{"role": "system", "parts": [{"text": "x"}]}]},
            "valid role: user, model",
        ),
        ({"contents": []}, "contents is not specified"),
        (
            generate() | {"contents": [{"parts": [{"inlineData": {"mimeType": "image/png", "data": "!!"}}]}]},
            "Base64",
        ),
    ],
)
async def test_invalid_requests_are_400_invalid_argument(
    gemini_sim: GeminiSimulator, client: httpx.AsyncClient, body: dict[str, Any], fragment: str
) -> None:
    answer = await client.post(f"{gemini_sim.base_url}/models/{MODEL}:generateContent", json=body)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["code"], error["status"]) == (400, "INVALID_ARGUMENT") and fragment in error["message"]
    assert answer.text.startswith("{\n")  # Google pretty-prints its errors


async def test_an_unknown_model_is_404_not_found(
    gemini_sim: GeminiSimulator, client: httpx.AsyncClient
) -> None:
    answer = await client.post(f"{gemini_sim.base_url}/models/gemini-0:generateContent", json=generate())
    assert answer.status_code == 404 and answer.json()["error"]["status"] == "NOT_FOUND"
    embed = await client.post(
        f"{gemini_sim.base_url}/models/text-embedding-004:generateContent", json=generate()
    )
    assert embed.status_code == 404


async def test_the_model_list_is_paginated(gemini_sim: GeminiSimulator, client: httpx.AsyncClient) -> None:
    names: list[str] = []
    token = None
    pages = 0
    while True:
        params: dict[str, str] = {"pageToken": token} if token else {}
        page = (await client.get(f"{gemini_sim.base_url}/models", params=params)).json()
        names += [m["name"] for m in page["models"]]
        pages += 1
        token = page.get("nextPageToken")
        if not token:
            break
    assert pages > 1
    assert sorted(names) == sorted(f"models/{m}" for m in gemini_sim.models)
    flash = (await client.get(f"{gemini_sim.base_url}/models/{MODEL}")).json()
    assert flash["supportedGenerationMethods"] == ["generateContent", "countTokens"]
    assert flash["inputTokenLimit"] == 1048576


async def test_the_key_goes_in_a_header_or_the_query(client: httpx.AsyncClient) -> None:
    async with GeminiSimulator(chunk_delay_ms=0, api_key="AIza-right") as sim:
        url = f"{sim.base_url}/models/{MODEL}:generateContent"
        assert (await client.post(url, json=generate())).status_code == 403
        wrong = await client.post(url, json=generate(), headers={"x-goog-api-key": "AIza-wrong"})
        assert wrong.status_code == 400
        assert wrong.json()["error"]["details"][0]["reason"] == "API_KEY_INVALID"
        assert (
            await client.post(url, json=generate(), headers={"x-goog-api-key": "AIza-right"})
        ).status_code == 200
        assert (await client.post(url, json=generate(), params={"key": "AIza-right"})).status_code == 200


async def test_a_429_has_retry_info_and_no_retry_after_header(
    gemini_sim: GeminiSimulator, client: httpx.AsyncClient
) -> None:
    answer = await client.post(
        f"{gemini_sim.base_url}/models/{MODEL}@error-429:generateContent", json=generate()
    )
    assert answer.status_code == 429 and "retry-after" not in answer.headers
    assert {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.5s"} in answer.json()[
        "error"
    ]["details"]


async def test_unicode_writes_split_inside_characters_and_crlf(
    gemini_sim: GeminiSimulator, client: httpx.AsyncClient
) -> None:
    url = f"{gemini_sim.base_url}/models/{MODEL}@unicode:streamGenerateContent?alt=sse"
    async with client.stream("POST", url, json=generate()) as response:
        reads = [chunk async for chunk in response.aiter_raw()]
    assert any(read.endswith(b"\r") for read in reads)  # split between CR and LF
    assert any(cuts_a_character(read) for read in reads)
    assert "\u2028" in b"".join(reads).decode()


async def test_without_alt_sse_a_stream_is_a_json_array(
    gemini_sim: GeminiSimulator, client: httpx.AsyncClient
) -> None:
    answer = await client.post(f"{gemini_sim.base_url}/models/{MODEL}:streamGenerateContent", json=generate())
    chunks = answer.json()
    assert isinstance(chunks, list) and chunks[-1]["candidates"][0]["finishReason"] == "STOP"
