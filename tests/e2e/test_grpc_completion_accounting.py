"""The message-array chat is counted as chat is: the ledger row, /usage and /quota, the limits'
metadata, Idempotency-Key replays (unary and streamed), and a client that leaves mid-stream."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from aihub.v1 import chat_service_pb2 as chat_pb
from aihub.v1 import chat_service_pb2_grpc as chat_grpc
from aihub.v1 import usage_service_pb2 as usage_pb
from aihub.v1 import usage_service_pb2_grpc as usage_grpc
from aihub_core.app import Core
from aihub_core.pricing import cost_pico_usd, usd
from tests.e2e.completions import ledger, streamed, text_of, user, weather_tool
from tests.e2e.test_grpc import bearer, error_info, new_key


async def test_each_call_has_its_ledger_row_and_counts_in_usage_and_quota(
    core: Core, channel: grpc.aio.Channel
) -> None:
    _, key = await new_key(channel)
    stub = chat_grpc.ChatServiceStub(channel)
    request = chat_pb.CreateChatCompletionRequest(messages=[user("hello")], tools=[weather_tool()])
    call = stub.CreateChatCompletion(request, metadata=bearer(key))
    answer = await call
    initial = dict(await call.initial_metadata())
    assert initial["x-request-id"] == answer.metadata.request_id
    assert (initial["x-ratelimit-limit"], initial["x-ratelimit-remaining"]) == ("20", "19")
    stream = chat_pb.StreamChatCompletionRequest(model="gemini-2.5-flash", messages=[user("hello")])
    _, _, usage, _ = await streamed(channel, key, stream)
    rows = ledger(core)
    assert [(r["service"], r["model"], r["status"], r["session_id"]) for r in rows] == [
        ("openrouter", "x-ai/grok-beta", "ok", None),
        ("gemini", "gemini-2.5-flash", "ok", None),
    ]
    grok = core.catalog.resolve("x-ai/grok-beta", "")
    assert rows[0]["request_id"] == answer.metadata.request_id
    assert rows[0]["prompt_tokens"] == answer.usage.prompt_tokens
    assert (
        usd(rows[0]["cost_pico_usd"])
        == answer.usage.estimated_cost_usd
        == usd(cost_pico_usd(answer.usage.prompt_tokens, answer.usage.completion_tokens, grok))
    )
    assert rows[1]["request_id"] == usage.metadata.request_id
    report = await usage_grpc.UsageServiceStub(channel).GetUsage(
        usage_pb.GetUsageRequest(period="day"), metadata=bearer(key)
    )
    assert report.total_requests == 2 and report.quota_used == 2
    assert report.total_tokens == answer.usage.total_tokens + usage.usage.total_tokens
    assert report.total_cost_usd == pytest.approx(
        answer.usage.estimated_cost_usd + usage.usage.estimated_cost_usd
    )


async def test_the_token_estimate_counts_tools_so_a_big_schema_can_be_refused(
    channel: grpc.aio.Channel,
) -> None:
    _, key = await new_key(channel)  # the free plan: 5 000 tokens a minute
    tool = weather_tool()
    tool.function.description = "word " * 50_000
    request = chat_pb.CreateChatCompletionRequest(messages=[user("hi")], tools=[tool])
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await chat_grpc.ChatServiceStub(channel).CreateChatCompletion(request, metadata=bearer(key))
    detail = error_info(info.value)
    assert (detail.reason, detail.metadata["parameter"]) == (
        "REQUEST_EXCEEDS_TOKEN_LIMIT",
        "generation.max_tokens",
    )


async def test_an_idempotency_key_replays_unary_and_streamed_answers(
    core: Core, channel: grpc.aio.Channel
) -> None:
    _, key = await new_key(channel)
    stub = chat_grpc.ChatServiceStub(channel)
    request = chat_pb.CreateChatCompletionRequest(messages=[user("Call get_weather")], tools=[weather_tool()])
    metadata = (*bearer(key), ("idempotency-key", "unary-1"))
    first = await stub.CreateChatCompletion(request, metadata=metadata)
    again = await stub.CreateChatCompletion(request, metadata=metadata)
    assert again == first and first.message.tool_calls

    stream = chat_pb.StreamChatCompletionRequest(messages=[user("Tell me something")])
    text, _, usage, kinds = await streamed(channel, key, stream, **{"idempotency-key": "stream-1"})
    replay_text, _, replay_usage, replay_kinds = await streamed(
        channel, key, stream, **{"idempotency-key": "stream-1"}
    )
    assert (replay_text, replay_usage) == (text, usage) and text
    assert replay_kinds == ["delta", "usage", "done"] and len(kinds) > 3  # stored whole, replayed whole

    calls = chat_pb.StreamChatCompletionRequest(messages=[user("Call get_weather")], tools=[weather_tool()])
    _, streamed_calls, _, _ = await streamed(channel, key, calls, **{"idempotency-key": "stream-2"})
    _, replayed_calls, _, _ = await streamed(channel, key, calls, **{"idempotency-key": "stream-2"})
    assert replayed_calls == streamed_calls and len(streamed_calls) == 1
    assert len(ledger(core)) == 3  # replays are not charged
    with pytest.raises(grpc.aio.AioRpcError) as reused:
        await stub.CreateChatCompletion(
            chat_pb.CreateChatCompletionRequest(messages=[user("other")]), metadata=metadata
        )
    assert error_info(reused.value).reason == "IDEMPOTENCY_KEY_REUSED"


async def test_a_client_that_leaves_mid_stream_is_charged_what_was_generated(core: Core) -> None:
    async with grpc.aio.insecure_channel(core.address) as channel:
        _, key = await new_key(channel)
        core.upstreams.simulators["gemini"].scenario = "stall"
        request = chat_pb.StreamChatCompletionRequest(model="gemini-2.5-flash", messages=[user("hi")])
        call = chat_grpc.ChatServiceStub(channel).StreamChatCompletion(request, metadata=bearer(key))
        first = await call.read()
        assert isinstance(first, chat_pb.StreamChatCompletionResponse) and first.delta.content
        call.cancel()
        for _ in range(100):
            await asyncio.sleep(0.05)
            rows = ledger(core)
            if rows and rows[0]["status"] != "pending":
                break
        core.upstreams.simulators["gemini"].scenario = None
    [row] = ledger(core)
    assert (row["status"], row["usage_source"]) == ("cancelled", "estimated")
    assert row["prompt_tokens"] > 0 and row["completion_tokens"] > 0 and row["cost_pico_usd"] > 0


async def test_the_answer_text_is_one_part(channel: grpc.aio.Channel) -> None:
    _, key = await new_key(channel)
    answer = await chat_grpc.ChatServiceStub(channel).CreateChatCompletion(
        chat_pb.CreateChatCompletionRequest(messages=[user("hi")]), metadata=bearer(key)
    )
    assert len(answer.message.content) == 1 and "simulated" in text_of(answer.message)
