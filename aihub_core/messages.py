"""The conversation as plain data: what chat builds, the limits estimate and providers send.

A leaf: it imports nothing of ours, so `limits`, `providers` and `chat` can all depend on it.
One shape serves both front doors: the developer API's one message with a session (a user turn
of text and images) and the message-array form (roles, content parts, tools, tool calls, response
formats and sampling parameters).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Role = Literal["system", "developer", "user", "assistant", "tool"]
JSONSchema = Mapping[str, Any]


@dataclass(frozen=True)
class Image:
    """An image to send inline: raw base64 (no `data:` prefix) and its sniffed MIME type."""

    mime_type: str
    data_b64: str
    detail: str = ""  # OpenAI's `low` / `high` / `auto`; empty: unset


@dataclass(frozen=True)
class ImageURL:
    """An image by URL, for the upstream to fetch (the gateway never does); a Gemini file URI too."""

    url: str
    mime_type: str = ""  # where the caller said (Gemini's fileData may take it)
    detail: str = ""


ContentPart = str | Image | ImageURL


@dataclass(frozen=True)
class ToolCall:
    """A call of a function tool as the model wrote it; `arguments` is its JSON text, unchecked."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class Message:
    """One message of the conversation: its content parts in order (text and, in user messages,
    images), an assistant's tool calls, or a tool's result for the call `tool_call_id`."""

    role: Role
    parts: tuple[ContentPart, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str = ""
    name: str = ""

    @classmethod
    def of(cls, role: Role, text: str, images: tuple[Image, ...] = ()) -> Message:
        """A message of one text and inline images after it (the developer API's turns)."""
        return cls(role, ((text,) if text else ()) + images)

    @property
    def text(self) -> str:
        """The text parts, joined."""
        return "".join(p for p in self.parts if isinstance(p, str))

    @property
    def images(self) -> tuple[Image | ImageURL, ...]:
        """The image parts, in order."""
        return tuple(p for p in self.parts if not isinstance(p, str))


@dataclass(frozen=True)
class FunctionTool:
    """A function the model may call; `parameters` is a JSON Schema object (None: no parameters)."""

    name: str
    description: str = ""
    parameters: JSONSchema | None = None
    strict: bool | None = None


@dataclass(frozen=True)
class NamedTool:
    """The one function the model must call."""

    name: str


# `auto`, `none`, `required`, or the one function the model must call.
ToolChoice = Literal["auto", "none", "required"] | NamedTool


@dataclass(frozen=True)
class JsonSchemaFormat:
    """An answer that is JSON matching `schema`."""

    name: str
    schema: JSONSchema
    description: str = ""
    strict: bool | None = None


# `text` (the default), `json_object` (any JSON object), or JSON matching a schema.
ResponseFormat = Literal["text", "json_object"] | JsonSchemaFormat


@dataclass(frozen=True)
class ProviderRequest:
    """A chat call as the adapter sends it: upstream model id, the whole conversation, its tools,
    the answer's form and the sampling parameters (None / empty: the upstream's default).

    From the developer API, `messages` holds at most one system message (first), then
    alternating user/assistant turns ending with the user's new message.
    """

    model: str
    messages: tuple[Message, ...]
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    user: str = ""
    tools: tuple[FunctionTool, ...] = ()
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None


@dataclass(frozen=True)
class EmbeddingRequest:
    """Texts to embed with an upstream model; `dimensions` shortens the vectors (None: the model's own)."""

    model: str
    inputs: tuple[str, ...]
    dimensions: int | None = None
    user: str = ""
