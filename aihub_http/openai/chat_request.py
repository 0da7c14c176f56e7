"""A `POST /v1/chat/completions` body -> CreateChatCompletionRequest or StreamChatCompletionRequest.

OpenAI's fields map onto the contract's one by one (`max_tokens`/`max_completion_tokens`,
`temperature` and the other sampling fields go to `generation`). `n` other than 1 and `logprobs`
are refused by name; fields that change nothing about the answer (`store`, `metadata`,
`service_tier`) are accepted and ignored; any other unknown field is a 400.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format, struct_pb2

from aihub.v1 import chat_service_pb2 as chat_pb
from aihub.v1 import conversation_pb2 as conv_pb
from aihub_http.openai.values import (
    array,
    boolean,
    integer,
    invalid,
    known,
    missing,
    number,
    obj,
    one_of,
    text,
    unsupported,
)

CompletionRequest = chat_pb.CreateChatCompletionRequest | chat_pb.StreamChatCompletionRequest

_ROLES = {
    "system": conv_pb.ROLE_SYSTEM,
    "developer": conv_pb.ROLE_DEVELOPER,
    "user": conv_pb.ROLE_USER,
    "assistant": conv_pb.ROLE_ASSISTANT,
    "tool": conv_pb.ROLE_TOOL,
}
_MODES = {
    "auto": conv_pb.ToolChoice.MODE_AUTO,
    "none": conv_pb.ToolChoice.MODE_NONE,
    "required": conv_pb.ToolChoice.MODE_REQUIRED,
}
_SAMPLING = ("temperature", "top_p", "presence_penalty", "frequency_penalty")
_IGNORED = frozenset({"store", "metadata", "service_tier"})
FIELDS = frozenset(
    {
        "model",
        "messages",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "stop",
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "user",
        "n",
        "logprobs",
        "top_logprobs",
        "stream",
        "stream_options",
        *_IGNORED,
    }
)
# An answer sent back as it came (the SDKs' message objects) may carry `refusal`, `annotations`,
# and null `audio` or `function_call`: accepted, with nothing to send on.
_MESSAGE_FIELDS = (
    "role",
    "content",
    "name",
    "tool_calls",
    "tool_call_id",
    "refusal",
    "annotations",
    "audio",
    "function_call",
)
_INT32_MAX = 2**31 - 1


@dataclass(frozen=True)
class ChatBody:
    """The request message and what only the shim needs: how to answer, and which name the body
    gave the token limit (an error about it names the parameter the caller sent)."""

    request: CompletionRequest
    stream: bool
    include_usage: bool
    max_tokens_name: str


def chat_body(data: dict[str, Any]) -> ChatBody:
    """The request the body asks for, or the 400 naming its first bad parameter."""
    known(data, FIELDS)
    body = {k: v for k, v in data.items() if v is not None and k not in _IGNORED}
    stream = boolean(body.get("stream", False), "stream")
    include_usage = False
    if "stream_options" in body:  # read, and of use only when streaming
        options = obj(body["stream_options"], "stream_options")
        known(options, ("include_usage",), "stream_options.")
        include_usage = stream and boolean(
            options.get("include_usage", False), "stream_options.include_usage"
        )
    _refuse_unsupported(body)
    request: CompletionRequest = (
        chat_pb.StreamChatCompletionRequest() if stream else chat_pb.CreateChatCompletionRequest()
    )
    if "model" not in body:
        raise missing("model")
    request.model = text(body["model"], "model")
    if "messages" not in body:
        raise missing("messages")
    for index, item in enumerate(array(body["messages"], "messages")):
        request.messages.append(_message(item, f"messages[{index}]"))
    for index, item in enumerate(array(body.get("tools", []), "tools")):
        request.tools.append(_tool(item, f"tools[{index}]"))
    if "tool_choice" in body:
        request.tool_choice.CopyFrom(_tool_choice(body["tool_choice"]))
    if "parallel_tool_calls" in body:
        request.parallel_tool_calls = boolean(body["parallel_tool_calls"], "parallel_tool_calls")
    if "response_format" in body:
        request.response_format.CopyFrom(_response_format(body["response_format"]))
    if "user" in body:
        request.user = text(body["user"], "user")
    name = _generation(body, request.generation)
    return ChatBody(request, stream, include_usage, name)


def _refuse_unsupported(body: dict[str, Any]) -> None:
    if "n" in body and integer(body["n"], "n") != 1:
        raise unsupported("n", "`n` must be 1: AI Hub answers with one choice per request")
    if "logprobs" in body and boolean(body["logprobs"], "logprobs"):
        raise unsupported("logprobs", "`logprobs` is not supported by AI Hub")
    if "top_logprobs" in body:
        raise unsupported("top_logprobs", "`top_logprobs` is not supported by AI Hub")


def _generation(body: dict[str, Any], generation: conv_pb.GenerationConfig) -> str:
    """Fill the sampling parameters; the name the token limit was given under."""
    name = "max_completion_tokens" if "max_completion_tokens" in body else "max_tokens"
    if name in body:
        generation.max_tokens = integer(body[name], name, -(2**31), _INT32_MAX)
    for field in _SAMPLING:
        if field in body:
            setattr(generation, field, number(body[field], field))
    if "seed" in body:
        generation.seed = integer(body["seed"], "seed")
    if "stop" in body:
        stop = body["stop"]
        items = [stop] if isinstance(stop, str) else array(stop, "stop")
        generation.stop.extend(text(item, f"stop[{i}]") for i, item in enumerate(items))
    return name


def _message(value: Any, path: str) -> conv_pb.ChatMessage:
    data = obj(value, path)
    known(data, _MESSAGE_FIELDS, f"{path}.")
    if data.get("role") is None:
        raise missing(f"{path}.role")
    role = one_of(data["role"], f"{path}.role", _ROLES)
    message = conv_pb.ChatMessage(role=_ROLES[role])
    for legacy in ("audio", "function_call"):
        if data.get(legacy) is not None:
            raise unsupported(f"{path}.{legacy}", f"`{path}.{legacy}` is not supported by AI Hub")
    content = data.get("content")
    if isinstance(content, str):
        if content:
            message.content.append(conv_pb.ContentPart(text=text(content, f"{path}.content")))
    elif content is not None:
        for index, part in enumerate(array(content, f"{path}.content")):
            message.content.append(_part(part, f"{path}.content[{index}]"))
    if data.get("name") is not None:
        message.name = text(data["name"], f"{path}.name")
    if data.get("tool_call_id") is not None:
        message.tool_call_id = text(data["tool_call_id"], f"{path}.tool_call_id")
    for index, call in enumerate(array(data.get("tool_calls") or [], f"{path}.tool_calls")):
        message.tool_calls.append(_tool_call(call, f"{path}.tool_calls[{index}]"))
    return message


def _part(value: Any, path: str) -> conv_pb.ContentPart:
    data = obj(value, path)
    kind = one_of(data.get("type"), f"{path}.type", ("text", "image_url", "refusal"))
    if kind == "image_url":
        known(data, ("type", "image_url"), f"{path}.")
        return conv_pb.ContentPart(image=_image(data.get("image_url"), f"{path}.image_url"))
    known(data, ("type", kind), f"{path}.")  # a refusal an assistant gave goes back as its text
    if kind not in data:
        raise missing(f"{path}.{kind}")
    return conv_pb.ContentPart(text=text(data[kind], f"{path}.{kind}"))


def _image(value: Any, path: str) -> conv_pb.ImageContent:
    data = obj(value, path)
    known(data, ("url", "detail"), f"{path}.")
    if data.get("url") is None:
        raise missing(f"{path}.url")
    url = text(data["url"], f"{path}.url")
    image = conv_pb.ImageContent()
    if data.get("detail") is not None:
        image.detail = text(data["detail"], f"{path}.detail")
    if not url.startswith("data:"):
        image.url = url  # the core accepts http(s) URLs only where the upstream fetches them
        return image
    header, comma, payload = url.partition(",")
    if not comma or not header.endswith(";base64"):
        raise invalid(f"{path}.url", "an http(s) URL or a base64 `data:` URI")
    try:
        image.data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise invalid(f"{path}.url", "a `data:` URI whose data is valid base64") from None
    return image


def _tool_call(value: Any, path: str) -> conv_pb.ToolCall:
    data = obj(value, path)
    known(data, ("id", "type", "function"), f"{path}.")
    one_of(data.get("type", "function"), f"{path}.type", ("function",))
    function = obj(data.get("function"), f"{path}.function")
    known(function, ("name", "arguments"), f"{path}.function.")
    return conv_pb.ToolCall(
        id=text(data.get("id", ""), f"{path}.id"),
        function=conv_pb.FunctionCall(
            name=text(function.get("name", ""), f"{path}.function.name"),
            arguments=text(function.get("arguments", ""), f"{path}.function.arguments"),
        ),
    )


def _tool(value: Any, path: str) -> conv_pb.Tool:
    data = obj(value, path)
    known(data, ("type", "function"), f"{path}.")
    one_of(data.get("type"), f"{path}.type", ("function",))
    function = obj(data.get("function"), f"{path}.function")
    known(function, ("name", "description", "parameters", "strict"), f"{path}.function.")
    declared = conv_pb.FunctionDeclaration(name=text(function.get("name", ""), f"{path}.function.name"))
    if function.get("description") is not None:
        declared.description = text(function["description"], f"{path}.function.description")
    if function.get("parameters") is not None:
        declared.parameters.CopyFrom(_struct(function["parameters"], f"{path}.function.parameters"))
    if function.get("strict") is not None:
        declared.strict = boolean(function["strict"], f"{path}.function.strict")
    return conv_pb.Tool(function=declared)


def _tool_choice(value: Any) -> conv_pb.ToolChoice:
    if isinstance(value, str):
        return conv_pb.ToolChoice(mode=_MODES[one_of(value, "tool_choice", _MODES)])
    data = obj(value, "tool_choice")
    known(data, ("type", "function"), "tool_choice.")
    one_of(data.get("type"), "tool_choice.type", ("function",))
    function = obj(data.get("function"), "tool_choice.function")
    known(function, ("name",), "tool_choice.function.")
    return conv_pb.ToolChoice(function_name=text(function.get("name", ""), "tool_choice.function.name"))


def _response_format(value: Any) -> conv_pb.ResponseFormat:
    data = obj(value, "response_format")
    kind = one_of(data.get("type"), "response_format.type", ("text", "json_object", "json_schema"))
    if kind != "json_schema":
        known(data, ("type",), "response_format.")
        if kind == "text":
            return conv_pb.ResponseFormat(text=conv_pb.TextFormat())
        return conv_pb.ResponseFormat(json_object=conv_pb.JsonObjectFormat())
    known(data, ("type", "json_schema"), "response_format.")
    path = "response_format.json_schema"
    schema = obj(data.get("json_schema"), path)
    known(schema, ("name", "description", "schema", "strict"), f"{path}.")
    form = conv_pb.JsonSchemaFormat(name=text(schema.get("name", ""), f"{path}.name"))
    if schema.get("description") is not None:
        form.description = text(schema["description"], f"{path}.description")
    if schema.get("schema") is not None:
        form.schema.CopyFrom(_struct(schema["schema"], f"{path}.schema"))
    if schema.get("strict") is not None:
        form.strict = boolean(schema["strict"], f"{path}.strict")
    return conv_pb.ResponseFormat(json_schema=form)


def _struct(value: Any, path: str) -> struct_pb2.Struct:
    """A JSON Schema as a Struct (any JSON object)."""
    struct = struct_pb2.Struct()
    try:
        json_format.ParseDict(obj(value, path), struct)
    except (json_format.ParseError, ValueError, TypeError, RecursionError):
        raise invalid(path, "a JSON object") from None
    return struct
