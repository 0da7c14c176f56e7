"""The message-array form's checks: each bad field is a 400 naming it by its path."""

from __future__ import annotations

from typing import Any

import pytest

from aihub_core.chat.completion_params import CompletionParams, ImageBytes, InputMessage
from aihub_core.errors import InvalidRequestError
from aihub_core.messages import FunctionTool, ImageURL, JsonSchemaFormat, NamedTool, ToolCall

HI = InputMessage("user", ("hi",))
CALL = InputMessage("assistant", tool_calls=(ToolCall("call_1", "f", "{}"),))
F = FunctionTool("f", parameters={"type": "object", "properties": {}})


def params(**fields: Any) -> CompletionParams:
    return CompletionParams(**{"messages": (HI,), **fields})


def test_a_full_round_trip_passes() -> None:
    result = InputMessage("tool", ('{"ok": true}',), tool_call_id="call_1")
    checked = params(messages=(HI, CALL, result), tools=(F,), tool_choice=NamedTool("f"), temperature=2.0)
    assert checked.messages[-1].tool_call_id == "call_1"


@pytest.mark.parametrize(
    ("fields", "param", "code"),
    [
        ({"messages": ()}, "messages", "missing_parameter"),
        (
            {"messages": (InputMessage("system", (ImageURL("https://x/a.png"),)),)},
            "messages[0].content[0]",
            "invalid_parameter",
        ),
        (
            {"messages": (InputMessage("user", (ImageURL("ftp://x/a.png"),)),)},
            "messages[0].content[0].image.url",
            "invalid_parameter",
        ),
        (
            {"messages": (InputMessage("user", (ImageBytes(b""),)),)},
            "messages[0].content[0].image.data",
            "invalid_parameter",
        ),
        (
            {"messages": (InputMessage("user", (ImageBytes(b"x", "huge"),)),)},
            "messages[0].content[0].image.detail",
            "invalid_parameter",
        ),
        (
            {"messages": (InputMessage("user", tool_calls=CALL.tool_calls),)},
            "messages[0].tool_calls",
            "invalid_parameter",
        ),
        (
            {"messages": (InputMessage("assistant", tool_calls=(ToolCall("", "f", "{}"),)),)},
            "messages[0].tool_calls[0].id",
            "invalid_parameter",
        ),
        (
            {"messages": (InputMessage("assistant", tool_calls=(ToolCall("c", "", "{}"),)),)},
            "messages[0].tool_calls[0].function.name",
            "invalid_parameter",
        ),
        ({"messages": (HI, InputMessage("tool", ("1",)))}, "messages[1].tool_call_id", "missing_parameter"),
        (
            {"messages": (HI, InputMessage("tool", ("1",), tool_call_id="call_9"))},
            "messages[1].tool_call_id",
            "invalid_parameter",
        ),
        (
            {"messages": (HI, InputMessage("tool", ("1",), tool_call_id="call_1"), CALL)},
            "messages[1].tool_call_id",
            "invalid_parameter",
        ),
        ({"tools": (FunctionTool("bad name"),)}, "tools[0].function.name", "invalid_parameter"),
        ({"tools": (F, F)}, "tools[1].function.name", "invalid_parameter"),
        (
            {"tools": (FunctionTool("g", parameters={"type": "string"}),)},
            "tools[0].function.parameters",
            "invalid_parameter",
        ),
        ({"tool_choice": "required"}, "tool_choice", "invalid_parameter"),
        ({"parallel_tool_calls": True}, "parallel_tool_calls", "invalid_parameter"),
        ({"tools": (F,), "tool_choice": NamedTool("g")}, "tool_choice.function_name", "invalid_parameter"),
        (
            {"response_format": JsonSchemaFormat("", {"type": "object"})},
            "response_format.json_schema.name",
            "invalid_parameter",
        ),
        (
            {"response_format": JsonSchemaFormat("r", {})},
            "response_format.json_schema.schema",
            "missing_parameter",
        ),
        ({"max_tokens": 0}, "generation.max_tokens", "invalid_parameter"),
        ({"temperature": 2.5}, "generation.temperature", "invalid_parameter"),
        ({"temperature": float("nan")}, "generation.temperature", "invalid_parameter"),
        ({"top_p": 1.5}, "generation.top_p", "invalid_parameter"),
        ({"presence_penalty": -3.0}, "generation.presence_penalty", "invalid_parameter"),
        ({"frequency_penalty": 2.1}, "generation.frequency_penalty", "invalid_parameter"),
        ({"stop": ("a", "b", "c", "d", "e")}, "generation.stop", "invalid_parameter"),
        ({"stop": ("",)}, "generation.stop", "invalid_parameter"),
    ],
)
def test_each_bad_field_is_named(fields: dict[str, Any], param: str, code: str) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        params(**fields)
    assert (raised.value.details["parameter"], raised.value.code) == (param, code)
