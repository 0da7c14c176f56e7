"""CreateChatCompletion and StreamChatCompletion over gRPC (in process and on a real port): a tool
round trip over two turns in both provider families, JSON mode, images, and the errors."""

from __future__ import annotations

import base64
import json

import grpc
import pytest

from aihub.v1 import chat_service_pb2 as chat_pb
from aihub.v1 import chat_service_pb2_grpc as chat_grpc
from aihub.v1 import conversation_pb2 as conv_pb
from aihub_core.app import Core
from tests.e2e.completions import streamed, struct, text_of, user, weather_tool
from tests.e2e.test_grpc import bearer, error_info, new_key

MODELS = {"openrouter": "x-ai/grok-beta", "gemini": "gemini-2.5-flash"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.mark.parametrize("service", ["openrouter", "gemini"])
async def test_a_tool_round_trip_over_two_turns(channel: grpc.aio.Channel, service: str) -> None:
    _, key = await new_key(channel)
    stub = chat_grpc.ChatServiceStub(channel)
    question = user("What is the weather in Oslo? Call get_weather.")
    first = await stub.CreateChatCompletion(
        chat_pb.CreateChatCompletionRequest(
            model=MODELS[service], messages=[question], tools=[weather_tool()]
        ),
        metadata=bearer(key),
    )
    assert first.metadata.finish_reason == "tool_calls" and not first.message.content
    [call] = first.message.tool_calls
    assert call.id.startswith("call_") and call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "city value", "unit": "celsius"}
    assert first.message.role == conv_pb.ROLE_ASSISTANT and first.model == f"{service}:{MODELS[service]}"

    result = conv_pb.ChatMessage(
        role=conv_pb.ROLE_TOOL,
        tool_call_id=call.id,
        content=[conv_pb.ContentPart(text='{"temperature": 21}')],
    )
    second = await stub.CreateChatCompletion(
        chat_pb.CreateChatCompletionRequest(
            model=MODELS[service], messages=[question, first.message, result], tools=[weather_tool()]
        ),
        metadata=bearer(key),
    )
    assert second.metadata.finish_reason == "stop" and not second.message.tool_calls
    assert 'get_weather returned {"temperature": 21}' in text_of(second.message)

    request = chat_pb.StreamChatCompletionRequest(
        model=MODELS[service], messages=[question], tools=[weather_tool()]
    )
    text, calls, usage, kinds = await streamed(channel, key, request)
    assert kinds[-2:] == ["usage", "done"] and set(kinds[:-2]) == {"delta"} and text == ""
    [(call_id, name, arguments)] = calls
    assert (
        call_id.startswith("call_")
        and name == "get_weather"
        and json.loads(arguments) == json.loads(call.function.arguments)
    )
    assert usage.metadata.finish_reason == "tool_calls" and usage.usage.completion_tokens > 0


@pytest.mark.parametrize("service", ["openrouter", "gemini"])
async def test_json_mode_answers_json_of_the_schema(channel: grpc.aio.Channel, service: str) -> None:
    _, key = await new_key(channel)
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city", "days"],
    }
    form = conv_pb.ResponseFormat(json_schema=conv_pb.JsonSchemaFormat(name="plan", schema=struct(schema)))
    answer = await chat_grpc.ChatServiceStub(channel).CreateChatCompletion(
        chat_pb.CreateChatCompletionRequest(
            model=MODELS[service], messages=[user("Plan a trip")], response_format=form
        ),
        metadata=bearer(key),
    )
    assert json.loads(text_of(answer.message)) == {"city": "city value", "days": 42}
    request = chat_pb.StreamChatCompletionRequest(
        model=MODELS[service],
        messages=[user("Plan a trip")],
        response_format=conv_pb.ResponseFormat(json_object=conv_pb.JsonObjectFormat()),
    )
    text, _, usage, _ = await streamed(channel, key, request)
    assert isinstance(json.loads(text), dict) and usage.metadata.finish_reason == "stop"


async def test_images_as_data_and_urls(channel: grpc.aio.Channel) -> None:
    _, key = await new_key(channel)
    stub = chat_grpc.ChatServiceStub(channel)

    async def ask(model: str, *images: conv_pb.ImageContent) -> chat_pb.CreateChatCompletionResponse:
        request = chat_pb.CreateChatCompletionRequest(model=model, messages=[user("What is this?", *images)])
        return await stub.CreateChatCompletion(request, metadata=bearer(key))

    plain = await ask("gemini-2.5-flash")
    with_image = await ask("gemini-2.5-flash", conv_pb.ImageContent(data=PNG))
    assert with_image.usage.prompt_tokens >= plain.usage.prompt_tokens + 258  # the image reached Gemini
    by_url = await ask(
        "x-ai/grok-beta", conv_pb.ImageContent(url="https://example.com/cat.png", detail="low")
    )
    assert by_url.metadata.finish_reason == "stop"
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await ask("gemini-2.5-flash", conv_pb.ImageContent(url="https://example.com/cat.png"))
    info = error_info(refused.value)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (info.reason, info.metadata["parameter"]) == (
        "IMAGE_URL_NOT_SUPPORTED",
        "messages[0].content[1].image.url",
    )
    with pytest.raises(grpc.aio.AioRpcError) as not_an_image:
        await ask("x-ai/grok-beta", conv_pb.ImageContent(data=base64.b64encode(b"text")))
    assert error_info(not_an_image.value).metadata["parameter"] == "messages[0].content[1].image.data"


@pytest.mark.parametrize(
    ("request_", "code", "reason", "param"),
    [
        (
            chat_pb.CreateChatCompletionRequest(),
            grpc.StatusCode.INVALID_ARGUMENT,
            "MISSING_PARAMETER",
            "messages",
        ),
        (
            chat_pb.CreateChatCompletionRequest(
                messages=[conv_pb.ChatMessage(content=[conv_pb.ContentPart(text="x")])]
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "MISSING_PARAMETER",
            "messages[0].role",
        ),
        (
            chat_pb.CreateChatCompletionRequest(
                messages=[user("hi")], generation=conv_pb.GenerationConfig(temperature=2.5)
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "INVALID_PARAMETER",
            "generation.temperature",
        ),
        (
            chat_pb.CreateChatCompletionRequest(model="text-embedding-004", messages=[user("hi")]),
            grpc.StatusCode.INVALID_ARGUMENT,
            "MODEL_NOT_CHAT",
            "model",
        ),
        (
            chat_pb.CreateChatCompletionRequest(model="nope", messages=[user("hi")]),
            grpc.StatusCode.NOT_FOUND,
            "MODEL_NOT_FOUND",
            "model",
        ),
        (
            chat_pb.CreateChatCompletionRequest(
                messages=[user("hi")], generation=conv_pb.GenerationConfig(max_tokens=1_000_000)
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "INVALID_PARAMETER",
            "generation.max_tokens",
        ),
    ],
)
async def test_errors_name_the_field(
    channel: grpc.aio.Channel,
    request_: chat_pb.CreateChatCompletionRequest,
    code: grpc.StatusCode,
    reason: str,
    param: str,
) -> None:
    _, key = await new_key(channel)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await chat_grpc.ChatServiceStub(channel).CreateChatCompletion(request_, metadata=bearer(key))
    assert info.value.code() == code
    detail = error_info(info.value)
    assert (detail.reason, detail.metadata["parameter"]) == (reason, param)


async def test_temperature_up_to_2_here_and_still_up_to_1_on_chat(channel: grpc.aio.Channel) -> None:
    _, key = await new_key(channel)
    stub = chat_grpc.ChatServiceStub(channel)
    hot = chat_pb.CreateChatCompletionRequest(
        messages=[user("hi")], generation=conv_pb.GenerationConfig(temperature=2)
    )
    assert (await stub.CreateChatCompletion(hot, metadata=bearer(key))).metadata.finish_reason == "stop"
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.Chat(chat_pb.ChatRequest(message="hi", temperature=1.5), metadata=bearer(key))
    assert error_info(info.value).metadata["parameter"] == "temperature"


async def test_a_failure_mid_stream_ends_it_with_the_error(core: Core, channel: grpc.aio.Channel) -> None:
    _, key = await new_key(channel)
    core.upstreams.simulators["openrouter"].scenario = "midstream-error"
    request = chat_pb.StreamChatCompletionRequest(messages=[user("hi")])
    kinds: list[str] = []
    with pytest.raises(grpc.aio.AioRpcError) as info:
        async for event in chat_grpc.ChatServiceStub(channel).StreamChatCompletion(
            request, metadata=bearer(key)
        ):
            kinds.append(str(event.WhichOneof("event")))
    assert kinds and set(kinds) == {"delta"}  # what was generated went out; no usage, no done
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert error_info(info.value).reason == "UPSTREAM_ERROR"
