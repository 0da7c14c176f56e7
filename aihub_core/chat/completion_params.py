"""A chat completion request (the message-array form) as validated plain data, before any model is
called. Parameter names in errors are the contract's field paths (`messages[2].tool_call_id`,
`generation.temperature`, `tools[0].function.name`)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from aihub_core.errors import InvalidRequestError
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

NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_STOP = 4
MAX_STOP_CHARS = 256
MAX_TOOLS = 128
MAX_CONVERSATION_CHARS = 8_000_000
DETAILS = ("", "auto", "low", "high")


@dataclass(frozen=True)
class ImageBytes:
    """An image part as the caller sent it: bytes, checked and encoded when the call is prepared."""

    data: bytes
    detail: str = ""


InputPart = str | ImageBytes | ImageURL


@dataclass(frozen=True)
class InputMessage:
    """One message as the caller sent it (the `ChatMessage` of the contract)."""

    role: Role
    parts: tuple[InputPart, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str = ""
    name: str = ""


@dataclass(frozen=True)
class CompletionParams:
    """The fields of CreateChatCompletionRequest / StreamChatCompletionRequest, checked."""

    messages: tuple[InputMessage, ...]
    model: str = ""
    service: str = ""
    tools: tuple[FunctionTool, ...] = ()
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    user: str = ""

    def __post_init__(self) -> None:
        if not self.messages:
            raise InvalidRequestError(
                "messages is required and must hold at least one message",
                code="missing_parameter",
                param="messages",
            )
        _check_messages(self.messages)
        _check_tools(self)
        if isinstance(self.response_format, JsonSchemaFormat):
            if not NAME.match(self.response_format.name):
                raise InvalidRequestError(
                    "response_format.json_schema.name must be 1 to 64 letters, digits, _ or -",
                    param="response_format.json_schema.name",
                )
            if not self.response_format.schema:
                raise InvalidRequestError(
                    "response_format.json_schema.schema is required",
                    code="missing_parameter",
                    param="response_format.json_schema.schema",
                )
        _check_sampling(self)


def _invalid(param: str, message: str) -> InvalidRequestError:
    return InvalidRequestError(f"{param}: {message}", param=param)


def _check_messages(messages: tuple[InputMessage, ...]) -> None:
    called: set[str] = set()
    size = 0
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        for position, part in enumerate(message.parts):
            if isinstance(part, str):
                size += len(part)
            elif message.role != "user":
                raise _invalid(f"{where}.content[{position}]", "images may only be sent in user messages")
            elif isinstance(part, ImageURL) and not part.url.startswith(("https://", "http://")):
                raise _invalid(f"{where}.content[{position}].image.url", "must be an http(s) URL")
            elif isinstance(part, ImageBytes) and not part.data:
                raise _invalid(f"{where}.content[{position}].image.data", "is empty")
            if not isinstance(part, str) and part.detail not in DETAILS:
                raise _invalid(f"{where}.content[{position}].image.detail", "must be auto, low or high")
        if message.tool_calls and message.role != "assistant":
            raise _invalid(f"{where}.tool_calls", "only assistant messages carry tool calls")
        for position, call in enumerate(message.tool_calls):
            if not call.id:
                raise _invalid(f"{where}.tool_calls[{position}].id", "a tool call needs its id")
            if not call.name:
                raise _invalid(f"{where}.tool_calls[{position}].function.name", "a tool call needs a name")
            size += len(call.arguments)
            called.add(call.id)
        if message.role == "tool":
            if not message.tool_call_id:
                raise InvalidRequestError(
                    f"{where}.tool_call_id is required in a tool message",
                    code="missing_parameter",
                    param=f"{where}.tool_call_id",
                )
            if message.tool_call_id not in called:
                raise _invalid(
                    f"{where}.tool_call_id",
                    f"{message.tool_call_id!r} answers no tool call of an earlier assistant message",
                )
    if size > MAX_CONVERSATION_CHARS:
        raise InvalidRequestError(
            f"The messages may hold at most {MAX_CONVERSATION_CHARS} characters of text",
            code="message_too_long",
            param="messages",
        )


def _check_tools(params: CompletionParams) -> None:
    if len(params.tools) > MAX_TOOLS:
        raise _invalid("tools", f"at most {MAX_TOOLS} tools")
    names: set[str] = set()
    for index, tool in enumerate(params.tools):
        if not NAME.match(tool.name):
            raise _invalid(f"tools[{index}].function.name", "must be 1 to 64 letters, digits, _ or -")
        if tool.name in names:
            raise _invalid(f"tools[{index}].function.name", f"{tool.name!r} is declared twice")
        names.add(tool.name)
        kind = (tool.parameters or {}).get("type", "object")
        if kind != "object":
            raise _invalid(
                f"tools[{index}].function.parameters", f"must be a schema of type object, not {kind!r}"
            )
    if not params.tools:
        for field, value in (
            ("tool_choice", params.tool_choice),
            ("parallel_tool_calls", params.parallel_tool_calls),
        ):
            if value is not None:
                raise _invalid(field, "is only allowed when tools are given")
    if isinstance(params.tool_choice, NamedTool) and params.tool_choice.name not in names:
        raise _invalid("tool_choice.function_name", f"{params.tool_choice.name!r} is not one of the tools")


def _check_sampling(params: CompletionParams) -> None:
    if params.max_tokens is not None and params.max_tokens < 1:
        raise _invalid("generation.max_tokens", f"must be at least 1, got {params.max_tokens}")
    for field, value, low, high in (
        ("temperature", params.temperature, 0.0, 2.0),
        ("top_p", params.top_p, 0.0, 1.0),
        ("presence_penalty", params.presence_penalty, -2.0, 2.0),
        ("frequency_penalty", params.frequency_penalty, -2.0, 2.0),
    ):
        if value is not None and not (math.isfinite(value) and low <= value <= high):
            raise _invalid(f"generation.{field}", f"must be between {low:g} and {high:g}, got {value}")
    if len(params.stop) > MAX_STOP:
        raise _invalid("generation.stop", f"at most {MAX_STOP} stop sequences")
    if any(not s or len(s) > MAX_STOP_CHARS for s in params.stop):
        raise _invalid("generation.stop", f"each stop sequence must hold 1 to {MAX_STOP_CHARS} characters")
