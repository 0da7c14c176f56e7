from __future__ import annotations

import asyncio
import base64
import time

import aiohttp
import pytest

from aihub_core.errors import UpstreamAuthError, UpstreamError, UpstreamTimeoutError
from aihub_core.messages import Image, Message, ProviderRequest
from aihub_core.providers.base import TextDelta
from aihub_core.providers.gemini import GeminiProvider
from aihub_core.providers.timeouts import UpstreamTimeouts
from aihub_core.simulators import GeminiSimulator
from tests.providers.conftest import GEMINI_KEY, ask, collect, gemini_provider

MODEL = "gemini-2.5-flash"
JPEG = base64.b64encode(b"\xff\xd8\xff\xe0" + b"\x00" * 24).decode()


async def test_complete_bills_thoughts_as_completion(
    gemini: GeminiProvider, gemini_sim: GeminiSimulator
) -> None:
    completion = await gemini.complete(ask(MODEL))
    assert "simulated" in completion.text
    assert (completion.finish_reason, completion.model, completion.usage.source) == (
        "stop",
        MODEL,
        "provider",
    )
    words = len(completion.text.split())
    assert completion.usage.completion_tokens > words  # candidates + thoughtsTokenCount (2.5 models think)
    sent = gemini_sim.requests[-1]
    assert sent.path == f"/v1beta/models/{MODEL}:generateContent"
    assert sent.headers["x-goog-api-key"] == GEMINI_KEY
    assert "key" not in sent.query


async def test_stream_usage_comes_from_the_last_chunk_never_summed(gemini: GeminiProvider) -> None:
    whole = await gemini.complete(ask(MODEL))
    events = [event async for event in gemini.stream(ask(MODEL))]
    assert len(events) >= 4
    text, end = await collect(gemini, ask(MODEL))
    assert text == whole.text
    assert end.usage == whole.usage  # every chunk carries cumulative usage: summing would inflate it
    assert end.finish_reason == "stop"


async def test_stream_request_uses_alt_sse(gemini: GeminiProvider, gemini_sim: GeminiSimulator) -> None:
    await collect(gemini, ask(MODEL))
    sent = gemini_sim.requests[-1]
    assert sent.path == f"/v1beta/models/{MODEL}:streamGenerateContent"
    assert sent.query == {"alt": "sse"}


async def test_max_tokens_bounds_candidates_plus_thoughts(
    gemini: GeminiProvider, gemini_sim: GeminiSimulator
) -> None:
    completion = await gemini.complete(ask(MODEL, max_tokens=10, temperature=0.5))
    assert completion.usage.completion_tokens == 10
    assert completion.finish_reason == "length"
    assert gemini_sim.requests[-1].json["generationConfig"] == {"maxOutputTokens": 10, "temperature": 0.5}
    text, end = await collect(gemini, ask(MODEL, max_tokens=10))
    assert (text, end.finish_reason, end.usage) == (completion.text, "length", completion.usage)


async def test_system_instruction_roles_and_inline_images(
    gemini: GeminiProvider, gemini_sim: GeminiSimulator
) -> None:
    request = ProviderRequest(
        MODEL,
        (
            Message.of("system", "You are terse."),
            Message.of("user", "First question"),
            Message.of("assistant", "First answer"),
            Message.of("user", "What is this?", (Image("image/jpeg", JPEG),)),
        ),
    )
    with_image = await gemini.complete(request)
    sent = gemini_sim.requests[-1].json
    assert sent["systemInstruction"] == {"parts": [{"text": "You are terse."}]}
    assert [c["role"] for c in sent["contents"]] == ["user", "model", "user"]
    assert sent["contents"][1]["parts"] == [{"text": "First answer"}]
    assert sent["contents"][2]["parts"] == [
        {"text": "What is this?"},
        {"inlineData": {"mimeType": "image/jpeg", "data": JPEG}},
    ]
    without = await gemini.complete(
        ProviderRequest(MODEL, (*request.messages[:3], Message.of("user", "What?")))
    )
    assert with_image.usage.prompt_tokens >= without.usage.prompt_tokens + 258


async def test_an_image_without_text_sends_no_empty_text_part(
    gemini: GeminiProvider, gemini_sim: GeminiSimulator
) -> None:
    await gemini.complete(ProviderRequest(MODEL, (Message.of("user", "", (Image("image/jpeg", JPEG),)),)))
    assert gemini_sim.requests[-1].json["contents"][0]["parts"] == [
        {"inlineData": {"mimeType": "image/jpeg", "data": JPEG}}
    ]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("scenario", "error", "code"),
    [
        ("error-500", UpstreamError, "upstream_error"),
        ("error-503", UpstreamError, "upstream_error"),
        ("error-400", UpstreamError, "upstream_error"),
        ("error-429", UpstreamError, "upstream_rate_limited"),
        ("error-401", UpstreamAuthError, "upstream_auth_failed"),  # Gemini says 400 API_KEY_INVALID
        ("midstream-error", UpstreamError, "upstream_error"),
    ],
)
async def test_scenarios_map_to_our_errors(
    gemini: GeminiProvider, scenario: str, error: type[Exception], code: str, stream: bool
) -> None:
    request = ask(f"{MODEL}@{scenario}")
    with pytest.raises(UpstreamError) as raised:
        await (collect(gemini, request) if stream else gemini.complete(request))
    assert type(raised.value) is error
    assert raised.value.code == code
    assert GEMINI_KEY not in str(raised.value)


async def test_errors_carry_the_reason_and_the_retry_delay_from_the_body(gemini: GeminiProvider) -> None:
    with pytest.raises(UpstreamError) as raised:
        await gemini.complete(ask(f"{MODEL}@error-429"))
    assert raised.value.details["retry_after"] == "1.5"
    assert raised.value.details["upstream_code"] == "RESOURCE_EXHAUSTED"
    with pytest.raises(UpstreamError) as raised:
        await gemini.complete(ask("gemini-0-nope"))
    assert raised.value.message.startswith("gemini returned 404: models/gemini-0-nope is not found")
    with pytest.raises(UpstreamError) as raised:
        await gemini.complete(ask(f"{MODEL}@error-503"))
    assert raised.value.message == "gemini returned 503: The model is overloaded. Please try again later."


async def test_a_wrong_key_is_an_upstream_auth_error(
    gemini_sim: GeminiSimulator, client: aiohttp.ClientSession
) -> None:
    provider = GeminiProvider("gemini", gemini_sim.base_url, "AIza-wrong-key", client, UpstreamTimeouts())
    with pytest.raises(UpstreamAuthError) as raised:
        await provider.complete(ask(MODEL))
    assert "AIza-wrong-key" not in str(raised.value)


async def test_a_midstream_error_comes_after_some_text(gemini: GeminiProvider) -> None:
    seen: list[str] = []
    with pytest.raises(UpstreamError) as raised:
        async for event in gemini.stream(ask(f"{MODEL}@midstream-error")):
            assert isinstance(event, TextDelta)
            seen.append(event.text)
    assert seen
    assert raised.value.details["upstream_code"] == "UNAVAILABLE"


async def test_a_stream_that_ends_without_a_finish_reason_failed(gemini: GeminiProvider) -> None:
    with pytest.raises(UpstreamError, match="without a finish reason"):
        await collect(gemini, ask(f"{MODEL}@no-finish"))


async def test_a_blocked_prompt_is_content_filter_with_empty_text(gemini: GeminiProvider) -> None:
    text, end = await collect(gemini, ask(f"{MODEL}@blocked"))
    assert (text, end.finish_reason, end.usage.completion_tokens) == ("", "content_filter", 0)
    completion = await gemini.complete(ask(f"{MODEL}@blocked"))
    assert (completion.text, completion.finish_reason, completion.usage) == ("", "content_filter", end.usage)


async def test_thought_parts_stay_out_of_the_answer(gemini: GeminiProvider) -> None:
    text, _ = await collect(gemini, ask(f"{MODEL}@thoughts"))
    assert "Weighing" not in text and text.startswith("This is a simulated answer")


async def test_a_stream_without_usage_is_estimated(gemini: GeminiProvider) -> None:
    text, end = await collect(gemini, ask(f"{MODEL}@no-usage"))
    assert end.usage.source == "estimated"
    assert end.usage.completion_tokens == -(-len(text.encode()) // 4)


async def test_unicode_split_inside_characters_and_crlf_is_reassembled(gemini: GeminiProvider) -> None:
    request = ask(f"{MODEL}@unicode")
    text, _ = await collect(gemini, request)
    assert text == (await gemini.complete(request)).text
    for special in ("你好", "🙂", "🚀", "café", "\u2028", "模拟"):
        assert special in text


async def test_slow_first_byte_and_stall_time_out(
    gemini_sim: GeminiSimulator, client: aiohttp.ClientSession
) -> None:
    provider = gemini_provider(gemini_sim, client, UpstreamTimeouts(first_byte=0.2, idle=0.2))
    started = time.monotonic()
    with pytest.raises(UpstreamTimeoutError):
        await collect(provider, ask(f"{MODEL}@slow-first-byte"))
    with pytest.raises(UpstreamTimeoutError, match="stalled"):
        await collect(provider, ask(f"{MODEL}@stall"))
    assert time.monotonic() - started < 1.5


async def test_aclose_closes_the_upstream_connection_at_once(
    gemini: GeminiProvider, gemini_sim: GeminiSimulator
) -> None:
    gemini_sim.chunk_delay = 0.05
    stream = gemini.stream(ask(MODEL))
    assert isinstance(await anext(stream), TextDelta)
    await stream.aclose()
    await asyncio.wait_for(gemini_sim.requests[-1].client_gone.wait(), 0.1)


async def test_a_models_prefix_on_the_id_is_accepted(
    gemini: GeminiProvider, gemini_sim: GeminiSimulator
) -> None:
    await gemini.complete(ask(f"models/{MODEL}"))
    assert gemini_sim.requests[-1].path == f"/v1beta/models/{MODEL}:generateContent"
