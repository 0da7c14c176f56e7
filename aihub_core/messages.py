"""The conversation as plain data: what chat builds, the limits estimate and providers send.

A leaf: it imports nothing of ours, so `limits`, `providers` and `chat` can all depend on it.
Today a message is text with inline images; message arrays from an OpenAI-style API, content
parts and tool calls belong here too, as fields of these types.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Image:
    """An image to send inline: raw base64 (no `data:` prefix) and its sniffed MIME type."""

    mime_type: str
    data_b64: str


@dataclass(frozen=True)
class Message:
    """One turn of the conversation. `images` only on user turns."""

    role: Role
    content: str
    images: tuple[Image, ...] = ()


@dataclass(frozen=True)
class ProviderRequest:
    """A chat call as the adapter sends it: upstream model id and the whole conversation.

    `messages` holds at most one system message (first), then alternating user/assistant
    turns ending with the user's new message.
    """

    model: str
    messages: tuple[Message, ...]
    max_tokens: int | None = None
    temperature: float | None = None
