"""Chat Completions request bodies (upstream-protocols §1.2-§1.4): the conversation, tools and
parameters passed through in OpenAI's own format, field by field.

A developer message goes as `system`: every server takes that role (OpenRouter's schema and many
chat templates know no other), and OpenAI reads system messages as developer messages for the models
that tell them apart. Text-only content goes as a string; content with images as parts in their
order, images inline as `data:` URIs or as the caller's URL.
"""

from __future__ import annotations

from typing import Any

from aihub_core.messages import (
    ContentPart,
    EmbeddingRequest,
    FunctionTool,
    Image,
    JsonSchemaFormat,
    Message,
    NamedTool,
    ProviderRequest,
)

# Sampling parameters that go as they are, under the same names.
_PASSED = ("max_tokens", "temperature", "top_p", "seed", "presence_penalty", "frequency_penalty")


def chat_payload(request: ProviderRequest, *, stream: bool) -> dict[str, Any]:
    """The `POST /chat/completions` body."""
    payload: dict[str, Any] = {"model": request.model, "messages": [_message(m) for m in request.messages]}
    for name in _PASSED:
        value = getattr(request, name)
        if value is not None:
            payload[name] = value
    if request.stop:
        payload["stop"] = list(request.stop)
    if request.user:
        payload["user"] = request.user
    if request.tools:
        payload["tools"] = [_tool(t) for t in request.tools]
    if request.tool_choice is not None:
        choice = request.tool_choice
        payload["tool_choice"] = (
            {"type": "function", "function": {"name": choice.name}}
            if isinstance(choice, NamedTool)
            else choice
        )
    if request.parallel_tool_calls is not None:
        payload["parallel_tool_calls"] = request.parallel_tool_calls
    if request.response_format is not None:
        payload["response_format"] = _response_format(request)
    if stream:
        payload["stream"] = True
        payload["stream_options"] = {"include_usage": True}
    return payload


def embeddings_payload(request: EmbeddingRequest) -> dict[str, Any]:
    """The `POST /embeddings` body: float vectors (the gateway encodes base64 itself, if asked)."""
    payload: dict[str, Any] = {
        "model": request.model,
        "input": list(request.inputs),
        "encoding_format": "float",
    }
    if request.dimensions is not None:
        payload["dimensions"] = request.dimensions
    if request.user:
        payload["user"] = request.user
    return payload


def _message(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": "system" if message.role == "developer" else message.role}
    if message.name:
        out["name"] = message.name
    if message.role == "assistant" and message.tool_calls:
        out["content"] = _content(message.parts) if message.parts else None
        out["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in message.tool_calls
        ]
    else:
        out["content"] = _content(message.parts)
    if message.role == "tool":
        out["tool_call_id"] = message.tool_call_id
    return out


def _content(parts: tuple[ContentPart, ...]) -> str | list[dict[str, Any]]:
    if all(isinstance(p, str) for p in parts) and len(parts) <= 1:
        return parts[0] if parts else ""  # type: ignore[return-value]
    return [_part(p) for p in parts]


def _part(part: ContentPart) -> dict[str, Any]:
    if isinstance(part, str):
        return {"type": "text", "text": part}
    # Images inline as data URLs (Ollama takes no other form), or the caller's own URL.
    url = f"data:{part.mime_type};base64,{part.data_b64}" if isinstance(part, Image) else part.url
    image: dict[str, Any] = {"url": url}
    if part.detail:
        image["detail"] = part.detail
    return {"type": "image_url", "image_url": image}


def _tool(tool: FunctionTool) -> dict[str, Any]:
    function: dict[str, Any] = {"name": tool.name}
    if tool.description:
        function["description"] = tool.description
    if tool.parameters is not None:
        function["parameters"] = tool.parameters
    if tool.strict is not None:
        function["strict"] = tool.strict
    return {"type": "function", "function": function}


def _response_format(request: ProviderRequest) -> dict[str, Any]:
    form = request.response_format
    if not isinstance(form, JsonSchemaFormat):
        return {"type": form}
    schema: dict[str, Any] = {"name": form.name, "schema": form.schema}
    if form.description:
        schema["description"] = form.description
    if form.strict is not None:
        schema["strict"] = form.strict
    return {"type": "json_schema", "json_schema": schema}
