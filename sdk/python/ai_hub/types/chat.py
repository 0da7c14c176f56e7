"""The answers of the chat calls and the events of a streamed chat."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ._common import RateLimit, Usage, raw_field


@dataclass(frozen=True)
class ChatMetadata:
    """How the gateway served a chat request."""

    response_time_ms: int | None = None
    service_used: str | None = None
    simulated: bool = False
    finish_reason: str | None = None
    request_id: str | None = None
    raw: Mapping[str, Any] = raw_field()


@dataclass(frozen=True)
class ChatResponse:
    """The answer of `POST /v1/developer/chat`."""

    message: str
    model: str
    session_id: str | None
    usage: Usage
    metadata: ChatMetadata
    request_id: str | None = None
    rate_limit: RateLimit | None = None
    raw: Mapping[str, Any] = raw_field()


@dataclass(frozen=True)
class ContentEvent:
    """A piece of the answer's text."""

    content: str
    model: str | None = None
    type: Literal["content"] = "content"


@dataclass(frozen=True)
class SessionEvent:
    """The conversation's session id; pass it as `session_id` to continue the conversation."""

    session_id: str
    type: Literal["session"] = "session"


@dataclass(frozen=True)
class UsageEvent:
    """Usage and cost of the whole streamed answer."""

    usage: Usage
    metadata: ChatMetadata | None = None
    type: Literal["usage"] = "usage"


@dataclass(frozen=True)
class DoneEvent:
    """The stream completed normally."""

    type: Literal["done"] = "done"


StreamEvent = ContentEvent | SessionEvent | UsageEvent | DoneEvent
