from __future__ import annotations

import asyncio
import base64
import time

import aiohttp
import pytest

from aihub_core.errors import UpstreamAuthError, UpstreamError, UpstreamTimeoutError
from aihub_core.messages import Image, Message, ProviderRequest
from aihub_core.providers.base import StreamEvent, TextDelta
from aihub_core.providers.openai_compat import OpenAICompatibleProvider
from aihub_core.providers.timeouts import UpstreamTimeouts
from aihub_core.simulators import OpenRouterSimulator
from tests.providers.conftest import OPENROUTER_KEY, ask, collect, openrouter_provider

MODEL = "x-ai/grok-beta"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 24).decode()


async def test_complete_returns_text_usage_and_finish(
    openrouter: OpenAICompatibleProvider, openrouter_sim: OpenRouterSimulator
) -> None:
    completion = await openrouter.complete(ask(MODEL))
    assert "simulated" in completion.text
    assert completion.finish_reason == "stop"
    assert completion.model == MODEL
    assert completion.usage.source == "provider"
    assert 40 <= completion.usage.completion_tokens <= 80
    assert completion.usage.prompt_tokens > 0
    sent = openrouter_sim.requests[-1]
    assert sent.path == "/api/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {OPENROUTER_KEY}"
    assert sent.json["model"] == MODEL
    assert "stream" not in sent.json


async def test_stream_gives_the_same_answer_in_several_deltas(
    openrouter: OpenAICompatibleProvider, openrouter_sim: OpenRouterSimulator
) -> None:
    whole = await openrouter.complete(ask(MODEL))
    events = [event async for event in openrouter.stream(ask(MODEL))]
    assert len(events) >= 4  # at least three pieces of text, then the end
    text, end = await collect(openrouter, ask(MODEL))
    assert text == whole.text
    assert end.usage == whole.usage and end.usage.source == "provider"
    assert end.finish_reason == "stop"
    sent = openrouter_sim.requests[-1].json
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    assert openrouter_sim.requests[-1].headers["accept"] == "text/event-stream"


async def test_prompt_tokens_grow_with_the_prompt(openrouter: OpenAICompatibleProvider) -> None:
    short = await openrouter.complete(ask(MODEL, "Hi"))
    long = await openrouter.complete(ask(MODEL, "Hi " * 400))
    assert long.usage.prompt_tokens > short.usage.prompt_tokens + 250


async def test_max_tokens_and_temperature_are_sent_and_honoured(
    openrouter: OpenAICompatibleProvider, openrouter_sim: OpenRouterSimulator
) -> None:
    completion = await openrouter.complete(ask(MODEL, max_tokens=7, temperature=0.2))
    assert completion.usage.completion_tokens == 7
    assert completion.finish_reason == "length"
    assert openrouter_sim.requests[-1].json["max_tokens"] == 7
    assert openrouter_sim.requests[-1].json["temperature"] == 0.2
    text, end = await collect(openrouter, ask(MODEL, max_tokens=7))
    assert (text, end.finish_reason, end.usage.completion_tokens) == (completion.text, "length", 7)


async def test_system_first_history_in_order_and_images_as_data_urls(
    openrouter: OpenAICompatibleProvider, openrouter_sim: OpenRouterSimulator
) -> None:
    request = ProviderRequest(
        MODEL,
        (
            Message.of("system", "You are terse."),
            Message.of("user", "First question"),
            Message.of("assistant", "First answer"),
            Message.of("user", "What is this?", (Image("image/png", PNG),)),
        ),
    )
    with_image = await openrouter.complete(request)
    sent = openrouter_sim.requests[-1].json["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[0]["content"] == "You are terse."
    assert sent[2]["content"] == "First answer"
    assert sent[3]["content"] == [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
    ]
    without = await openrouter.complete(
        ProviderRequest(MODEL, (*request.messages[:3], Message.of("user", "What?")))
    )
    assert with_image.usage.prompt_tokens > without.usage.prompt_tokens  # images are billed


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("scenario", "error", "code"),
    [
        ("error-500", UpstreamError, "upstream_error"),
        ("error-503", UpstreamError, "upstream_error"),
        ("error-400", UpstreamError, "upstream_error"),
        ("error-429", UpstreamError, "upstream_rate_limited"),
        ("error-401", UpstreamAuthError, "upstream_auth_failed"),
        ("midstream-error", UpstreamError, "upstream_error"),
    ],
)
async def test_scenarios_map_to_our_errors(
    openrouter: OpenAICompatibleProvider, scenario: str, error: type[Exception], code: str, stream: bool
) -> None:
    request = ask(f"{MODEL}@{scenario}")
    with pytest.raises(UpstreamError) as raised:
        await (collect(openrouter, request) if stream else openrouter.complete(request))
    assert type(raised.value) is error
    assert raised.value.code == code
    assert OPENROUTER_KEY not in str(raised.value) and OPENROUTER_KEY not in str(raised.value.details)


async def test_errors_carry_the_upstream_reason_and_retry_hint(openrouter: OpenAICompatibleProvider) -> None:
    with pytest.raises(UpstreamError) as raised:
        await openrouter.complete(ask(f"{MODEL}@error-503"))
    assert raised.value.message == "openrouter returned 503: provider overloaded"
    with pytest.raises(UpstreamError) as raised:
        await openrouter.complete(ask(f"{MODEL}@error-429"))
    assert raised.value.details["retry_after"] == "12"
    with pytest.raises(UpstreamError) as raised:
        await openrouter.complete(ask("nobody/no-such-model"))
    assert raised.value.message == "openrouter returned 404: No endpoints found for nobody/no-such-model."
    with pytest.raises(UpstreamError, match="context length"):
        await openrouter.complete(ask(f"{MODEL}@error-400"))


async def test_a_wrong_key_is_an_upstream_auth_error(
    openrouter_sim: OpenRouterSimulator, client: aiohttp.ClientSession
) -> None:
    provider = OpenAICompatibleProvider(
        "openrouter", openrouter_sim.base_url, "sk-wrong", client, UpstreamTimeouts()
    )
    with pytest.raises(UpstreamAuthError) as raised:
        await provider.complete(ask(MODEL))
    assert raised.value.http_status == 500
    assert "sk-wrong" not in str(raised.value)


async def test_the_scenario_header_and_attribute_apply_too(
    openrouter: OpenAICompatibleProvider, openrouter_sim: OpenRouterSimulator
) -> None:
    openrouter_sim.scenario = "midstream-error"
    with pytest.raises(UpstreamError, match="mid-response"):
        await collect(openrouter, ask(MODEL))
    openrouter_sim.scenario = None
    assert (await openrouter.complete(ask(MODEL))).finish_reason == "stop"


async def test_a_midstream_error_comes_after_some_text(openrouter: OpenAICompatibleProvider) -> None:
    seen: list[str] = []
    with pytest.raises(UpstreamError) as raised:
        async for event in openrouter.stream(ask(f"{MODEL}@midstream-error")):
            assert isinstance(event, TextDelta)
            seen.append(event.text)
    assert seen and "simulated" in "".join(seen)
    assert raised.value.details["upstream_status"] == "502"


async def test_a_stream_that_stops_without_a_finish_reason_failed(
    openrouter: OpenAICompatibleProvider,
) -> None:
    with pytest.raises(UpstreamError, match="without a finish reason"):
        await collect(openrouter, ask(f"{MODEL}@no-finish"))
    # A whole body is complete by its HTTP framing: a missing finish_reason there is just `stop`.
    assert (await openrouter.complete(ask(f"{MODEL}@no-finish"))).finish_reason == "stop"


async def test_a_stream_without_usage_is_estimated(openrouter: OpenAICompatibleProvider) -> None:
    text, end = await collect(openrouter, ask(f"{MODEL}@no-usage"))
    assert end.usage.source == "estimated"
    assert end.usage.completion_tokens == -(-len(text.encode()) // 4)
    assert end.usage.prompt_tokens > 0


async def test_blocked_and_reasoning_answers(openrouter: OpenAICompatibleProvider) -> None:
    text, end = await collect(openrouter, ask(f"{MODEL}@blocked"))
    assert (text, end.finish_reason) == ("", "content_filter")
    thinking, end = await collect(openrouter, ask(f"{MODEL}@thoughts"))
    assert "Considering" not in thinking and "simulated" in thinking
    assert end.usage.completion_tokens > len(thinking.split())  # reasoning tokens are billed


async def test_unicode_split_inside_characters_is_reassembled_exactly(
    openrouter: OpenAICompatibleProvider,
) -> None:
    request = ask(f"{MODEL}@unicode")
    text, _ = await collect(openrouter, request)
    assert text == (await openrouter.complete(request)).text
    for special in ("你好", "🙂", "🚀", "naïve", "\u2028", "模拟"):
        assert special in text


async def test_slow_first_byte_times_out(
    openrouter_sim: OpenRouterSimulator, client: aiohttp.ClientSession
) -> None:
    provider = openrouter_provider(openrouter_sim, client, UpstreamTimeouts(first_byte=0.2))
    started = time.monotonic()
    for call in (provider.complete, lambda r: collect(provider, r)):
        with pytest.raises(UpstreamTimeoutError, match=r"no response within 0\.2s"):
            await call(ask(f"{MODEL}@slow-first-byte"))
    assert time.monotonic() - started < 1.5


async def test_a_stall_between_chunks_times_out_after_the_idle_bound(
    openrouter_sim: OpenRouterSimulator, client: aiohttp.ClientSession
) -> None:
    provider = openrouter_provider(openrouter_sim, client, UpstreamTimeouts(first_byte=5, idle=0.2))
    seen: list[StreamEvent] = []
    with pytest.raises(UpstreamTimeoutError, match=r"stalled for 0\.2s"):
        async for event in provider.stream(ask(f"{MODEL}@stall")):
            seen.append(event)
    assert seen  # the first piece arrived before the stall


async def test_idle_bounds_each_gap_not_the_whole_stream(
    openrouter_sim: OpenRouterSimulator, client: aiohttp.ClientSession
) -> None:
    openrouter_sim.chunk_delay = 0.04
    provider = openrouter_provider(openrouter_sim, client, UpstreamTimeouts(first_byte=0.3, idle=0.15))
    started = time.monotonic()
    _, end = await collect(provider, ask(MODEL))
    assert time.monotonic() - started > 0.3  # longer than either bound, in small steps
    assert end.finish_reason == "stop"


async def test_aclose_closes_the_upstream_connection_at_once(
    openrouter: OpenAICompatibleProvider, openrouter_sim: OpenRouterSimulator
) -> None:
    openrouter_sim.chunk_delay = 0.05
    stream = openrouter.stream(ask(MODEL))
    assert isinstance(await anext(stream), TextDelta)
    await stream.aclose()
    await asyncio.wait_for(openrouter_sim.requests[-1].client_gone.wait(), 0.1)


async def test_an_unreachable_upstream_is_an_upstream_error(client: aiohttp.ClientSession) -> None:
    sim = OpenRouterSimulator(chunk_delay_ms=0)
    url = await sim.start()
    await sim.stop()
    provider = OpenAICompatibleProvider("openrouter", url, None, client, UpstreamTimeouts(connect=1))
    with pytest.raises(UpstreamError, match="could not be reached"):
        await provider.complete(ask(MODEL))
