"""Chat Completions request bodies read and validated as OpenAI-compatible servers do: messages
with content parts, tool calls and tool results; tools, tool_choice, parallel_tool_calls and
response_format. Anything malformed is a ValueError, answered as a 400 in the dialect's shape."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aihub_core.simulators.tools import Asked, Offer

_ROLES = ("system", "user", "assistant", "tool")


@dataclass(frozen=True)
class ChatBody:
    """What the simulator needs of a request: the prompt's texts and images, and what it asks."""

    texts: list[str]
    images: int
    asked: Asked


def read_chat(body: Mapping[str, Any]) -> ChatBody:
    """The messages, tools and formats of a `POST /chat/completions` body."""
    texts: list[str] = []
    images = 0
    names: dict[str, str] = {}  # tool call id -> function
    messages = body["messages"]
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in _ROLES:
            raise ValueError("each message needs a role of system, user, assistant or tool")
        calls = message.get("tool_calls")
        if calls is not None:
            _read_calls(message, calls, names, texts)
        if message["role"] == "tool" and message.get("tool_call_id") not in names:
            raise ValueError(
                "messages with role 'tool' must be a response to a preceding message with 'tool_calls'"
            )
        content = message.get("content")
        if content is None and (calls or message["role"] == "assistant"):
            continue
        images += _read_content(content, texts)
    tools = _read_tools(body.get("tools"), texts)
    offer = _offer(body, tools) if tools else None
    last = messages[-1]
    last_user_text = _text(last.get("content")) if last["role"] == "user" else None
    results: list[tuple[str, str]] = []
    for message in reversed(messages):
        if message["role"] != "tool":
            break
        results.insert(0, (names[message["tool_call_id"]], _text(message.get("content"))))
    json_mode, schema = _response_format(body.get("response_format"))
    asked = Asked(offer, last_user_text, tuple(results), json_mode, schema)
    return ChatBody(texts, images, asked)


def _read_calls(message: dict[str, Any], calls: object, names: dict[str, str], texts: list[str]) -> None:
    if message["role"] != "assistant" or not isinstance(calls, list):
        raise ValueError("tool_calls must be a list, in an assistant message")
    for call in calls:
        function = call.get("function") if isinstance(call, dict) else None
        if (
            not isinstance(function, dict)
            or not isinstance(call.get("id"), str)
            or not isinstance(function.get("name"), str)
            or not isinstance(function.get("arguments"), str)
        ):
            raise ValueError("each tool call needs an id and a function with a name and string arguments")
        names[call["id"]] = function["name"]
        texts.append(function["name"] + function["arguments"])


def _read_content(content: object, texts: list[str]) -> int:
    """Take a message's text parts; return its number of images."""
    parts = [{"type": "text", "text": content}] if isinstance(content, str) else content
    if not isinstance(parts, list):
        raise ValueError("message content must be a string or a list of parts")
    images = 0
    for part in parts:
        if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif isinstance(part, dict) and part.get("type") == "image_url":
            url = (part.get("image_url") or {}).get("url", "")
            if not isinstance(url, str) or not url.startswith(("data:image/", "https://", "http://")):
                raise ValueError("image_url.url must be a data: or http(s) URL")
            images += 1
        else:
            raise ValueError("unsupported content part")
    return images


def _text(content: object) -> str:
    if isinstance(content, str):
        return content
    parts = content if isinstance(content, list) else []
    return "".join(p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str))


def _read_tools(tools: object, texts: list[str]) -> dict[str, Mapping[str, Any]]:
    if tools is None:
        return {}
    if not isinstance(tools, list):
        raise ValueError("tools must be a list")
    found: dict[str, Mapping[str, Any]] = {}
    for tool in tools:
        function = tool.get("function") if isinstance(tool, dict) and tool.get("type") == "function" else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise ValueError("each tool must be {type: function, function: {name, ...}}")
        parameters = function.get("parameters", {})
        if not isinstance(parameters, dict):
            raise ValueError("function.parameters must be a JSON Schema object")
        found[function["name"]] = parameters
        texts.append(json.dumps(tool))
    return found


def _offer(body: Mapping[str, Any], tools: dict[str, Mapping[str, Any]]) -> Offer:
    choice = body.get("tool_choice", "auto")
    only = None
    if isinstance(choice, dict):
        only = (choice.get("function") or {}).get("name")
        if choice.get("type") != "function" or only not in tools:
            raise ValueError("tool_choice names no function of the tools")
        choice = "required"
    elif choice not in ("auto", "none", "required"):
        raise ValueError("tool_choice must be auto, none, required or a function")
    parallel = body.get("parallel_tool_calls", True)
    if not isinstance(parallel, bool):
        raise ValueError("parallel_tool_calls must be a boolean")
    return Offer(tuple(tools.items()), choice, only, parallel)


def _response_format(form: object) -> tuple[bool, Mapping[str, Any] | None]:
    if form is None:
        return False, None
    kind = form.get("type") if isinstance(form, dict) else None
    if kind == "text":
        return False, None
    if kind == "json_object":
        return True, None
    if kind == "json_schema":
        spec = form.get("json_schema") if isinstance(form, dict) else None
        if (
            not isinstance(spec, dict)
            or not isinstance(spec.get("name"), str)
            or not isinstance(spec.get("schema"), dict)
        ):
            raise ValueError("response_format.json_schema needs a name and a schema")
        return True, spec["schema"]
    raise ValueError("response_format.type must be text, json_object or json_schema")
