"""The message-array chat and embeddings: protobuf requests -> validated params, outcomes -> protobuf."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format, struct_pb2

from aihub.v1 import chat_service_pb2 as chat_pb
from aihub.v1 import conversation_pb2 as conv_pb
from aihub.v1 import embedding_service_pb2 as embed_pb
from aihub_core.chat.completion_params import CompletionParams, ImageBytes, InputMessage, InputPart
from aihub_core.chat.embeddings import EmbeddingOutcome, EmbeddingParams
from aihub_core.chat.engine import ChatOutcome, ContentPiece
from aihub_core.errors import InvalidRequestError
from aihub_core.grpc_api.convert import chat_metadata, usage
from aihub_core.messages import (
    FunctionTool,
    ImageURL,
    JsonSchemaFormat,
    NamedTool,
    ResponseFormat,
    Role,
    ToolCall,
    ToolChoice,
)

_ROLES: dict[int, Role] = {
    conv_pb.ROLE_SYSTEM: "system",
    conv_pb.ROLE_DEVELOPER: "developer",
    conv_pb.ROLE_USER: "user",
    conv_pb.ROLE_ASSISTANT: "assistant",
    conv_pb.ROLE_TOOL: "tool",
}
_MODES: dict[int, ToolChoice] = {
    conv_pb.ToolChoice.MODE_AUTO: "auto",
    conv_pb.ToolChoice.MODE_NONE: "none",
    conv_pb.ToolChoice.MODE_REQUIRED: "required",
}
CompletionRequest = chat_pb.CreateChatCompletionRequest | chat_pb.StreamChatCompletionRequest


def completion_params(request: CompletionRequest) -> CompletionParams:
    """The validated parameters of a CreateChatCompletion or StreamChatCompletion request."""
    generation = request.generation
    return CompletionParams(
        messages=tuple(_message(m, i) for i, m in enumerate(request.messages)),
        model=request.model.strip(),
        service=request.service.strip(),
        tools=tuple(_tool(t, i) for i, t in enumerate(request.tools)),
        tool_choice=_tool_choice(request.tool_choice) if request.HasField("tool_choice") else None,
        parallel_tool_calls=request.parallel_tool_calls if request.HasField("parallel_tool_calls") else None,
        response_format=_response_format(request.response_format)
        if request.HasField("response_format")
        else None,
        max_tokens=generation.max_tokens if generation.HasField("max_tokens") else None,
        temperature=generation.temperature if generation.HasField("temperature") else None,
        top_p=generation.top_p if generation.HasField("top_p") else None,
        stop=tuple(generation.stop),
        seed=generation.seed if generation.HasField("seed") else None,
        presence_penalty=generation.presence_penalty if generation.HasField("presence_penalty") else None,
        frequency_penalty=generation.frequency_penalty if generation.HasField("frequency_penalty") else None,
        user=request.user,
    )


def _message(message: conv_pb.ChatMessage, index: int) -> InputMessage:
    role = _ROLES.get(message.role)
    if role is None:
        raise InvalidRequestError(
            f"messages[{index}].role is required", code="missing_parameter", param=f"messages[{index}].role"
        )
    parts = tuple(_part(p, f"messages[{index}].content[{i}]") for i, p in enumerate(message.content))
    calls = tuple(ToolCall(c.id, c.function.name, c.function.arguments) for c in message.tool_calls)
    return InputMessage(role, parts, calls, message.tool_call_id, message.name)


def _part(part: conv_pb.ContentPart, param: str) -> InputPart:
    kind = part.WhichOneof("part")
    if kind == "text":
        return part.text
    if kind == "image":
        image = part.image
        source = image.WhichOneof("source")
        if source == "data":
            return ImageBytes(image.data, image.detail)
        if source == "url":
            return ImageURL(image.url, image.mime_type, image.detail)
        raise InvalidRequestError(
            f"{param}.image needs data or a url", code="missing_parameter", param=f"{param}.image"
        )
    raise InvalidRequestError(f"{param} is empty: set text or image", code="missing_parameter", param=param)


def _tool(tool: conv_pb.Tool, index: int) -> FunctionTool:
    if not tool.HasField("function"):
        raise InvalidRequestError(
            f"tools[{index}] needs a function", code="missing_parameter", param=f"tools[{index}]"
        )
    function = tool.function
    return FunctionTool(
        name=function.name,
        description=function.description,
        parameters=_plain_struct(function.parameters) if function.HasField("parameters") else None,
        strict=function.strict if function.HasField("strict") else None,
    )


def _tool_choice(choice: conv_pb.ToolChoice) -> ToolChoice | None:
    if choice.WhichOneof("choice") == "function_name":
        return NamedTool(choice.function_name)
    return _MODES.get(choice.mode)


def _response_format(form: conv_pb.ResponseFormat) -> ResponseFormat | None:
    kind = form.WhichOneof("format")
    if kind == "json_schema":
        schema = form.json_schema
        return JsonSchemaFormat(
            name=schema.name,
            schema=_plain_struct(schema.schema),
            description=schema.description,
            strict=schema.strict if schema.HasField("strict") else None,
        )
    if kind == "json_object":
        return "json_object"
    return "text" if kind == "text" else None


def _plain_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    """A Struct as plain JSON values, with integral numbers as ints (a Struct holds only doubles,
    and `"maxItems": 3.0` is not what the caller wrote, nor what every upstream accepts)."""
    value = _plain(json_format.MessageToDict(struct))
    return value if isinstance(value, dict) else {}


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def completion_response(outcome: ChatOutcome) -> chat_pb.CreateChatCompletionResponse:
    """The whole answer: an assistant message with its text and tool calls."""
    message = conv_pb.ChatMessage(
        role=conv_pb.ROLE_ASSISTANT,
        content=[conv_pb.ContentPart(text=outcome.text)] if outcome.text else [],
        tool_calls=[
            conv_pb.ToolCall(id=c.id, function=conv_pb.FunctionCall(name=c.name, arguments=c.arguments))
            for c in outcome.tool_calls
        ],
    )
    return chat_pb.CreateChatCompletionResponse(
        model=outcome.model.qualified_id,
        message=message,
        usage=usage(outcome),
        metadata=chat_metadata(outcome),
    )


def completion_delta(piece: ContentPiece) -> chat_pb.StreamChatCompletionResponse:
    """A piece of a streamed answer: text, or a piece of one tool call."""
    delta = chat_pb.CompletionDelta(content=piece.text, model=piece.model.id)
    call = piece.tool_call
    if call is not None:
        delta.tool_calls.append(
            conv_pb.ToolCallDelta(index=call.index, id=call.id, name=call.name, arguments=call.arguments)
        )
    return chat_pb.StreamChatCompletionResponse(delta=delta)


def completion_end(outcome: ChatOutcome) -> list[chat_pb.StreamChatCompletionResponse]:
    """The events after the last delta: usage (with the finish reason), then done."""
    event = chat_pb.UsageEvent(usage=usage(outcome), metadata=chat_metadata(outcome))
    return [
        chat_pb.StreamChatCompletionResponse(usage=event),
        chat_pb.StreamChatCompletionResponse(done=chat_pb.DoneEvent()),
    ]


def replayed_completion_stream(
    response: chat_pb.CreateChatCompletionResponse,
) -> list[chat_pb.StreamChatCompletionResponse]:
    """A stored answer as the events of a stream: one delta with the whole text and every tool
    call whole, then usage and done."""
    model_id = response.model.partition(":")[2] or response.model
    delta = chat_pb.CompletionDelta(
        content="".join(p.text for p in response.message.content),
        tool_calls=[
            conv_pb.ToolCallDelta(index=i, id=c.id, name=c.function.name, arguments=c.function.arguments)
            for i, c in enumerate(response.message.tool_calls)
        ],
        model=model_id,
    )
    return [
        chat_pb.StreamChatCompletionResponse(delta=delta),
        chat_pb.StreamChatCompletionResponse(
            usage=chat_pb.UsageEvent(usage=response.usage, metadata=response.metadata)
        ),
        chat_pb.StreamChatCompletionResponse(done=chat_pb.DoneEvent()),
    ]


def embedding_params(request: embed_pb.CreateEmbeddingsRequest) -> EmbeddingParams:
    """The validated parameters of a CreateEmbeddings request."""
    return EmbeddingParams(
        inputs=tuple(request.input),
        model=request.model.strip(),
        service=request.service.strip(),
        dimensions=request.dimensions if request.HasField("dimensions") else None,
        user=request.user,
    )


def embeddings_response(outcome: EmbeddingOutcome) -> embed_pb.CreateEmbeddingsResponse:
    """One vector per input, usage and cost, how it was produced."""
    return embed_pb.CreateEmbeddingsResponse(
        model=outcome.model.qualified_id,
        embeddings=[embed_pb.Embedding(index=i, values=v) for i, v in enumerate(outcome.vectors)],
        usage=usage(outcome),
        metadata=chat_pb.ChatMetadata(
            response_time_ms=outcome.response_time_ms,
            service_used=outcome.model.service,
            simulated=outcome.simulated,
            request_id=outcome.request_id,
        ),
    )
