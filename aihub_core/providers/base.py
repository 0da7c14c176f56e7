"""What every provider adapter takes (the conversation: `aihub_core.messages`) and gives back, as
plain data.

Adapters never see a gRPC context or a Starlette request. Their calls raise only `UpstreamError`
subclasses (`aihub_core.errors`), translating HTTP client and upstream errors exactly once; their
`check` raises the InvalidRequestError of a request the upstream could never take.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Literal, Protocol

from aihub_core.messages import EmbeddingRequest, ProviderRequest, ToolCall

FinishReason = Literal["stop", "length", "content_filter", "tool_calls", "error"]
UsageSource = Literal["provider", "estimated"]


@dataclass(frozen=True)
class TokenUsage:
    """Tokens of one call; `source` says whether the provider reported them or we estimated."""

    prompt_tokens: int
    completion_tokens: int
    source: UsageSource = "provider"

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Completion:
    """A whole answer: text and/or tool calls."""

    text: str
    model: str
    finish_reason: FinishReason
    usage: TokenUsage
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True)
class TextDelta:
    """The next piece of a streamed answer."""

    text: str


@dataclass(frozen=True)
class ToolCallDelta:
    """A piece of a streamed tool call, whatever the upstream's dialect: `index` counts the
    answer's calls from 0; a call's first piece carries its `id` and `name` (never again), and
    every piece appends `arguments` text."""

    index: int
    id: str = ""
    name: str = ""
    arguments: str = ""


@dataclass(frozen=True)
class StreamEnd:
    """The last event of a successful stream: why it stopped and the final usage."""

    finish_reason: FinishReason
    usage: TokenUsage
    model: str


StreamEvent = TextDelta | ToolCallDelta | StreamEnd


@dataclass(frozen=True)
class Embeddings:
    """One vector per input, in the inputs' order, and the tokens they took."""

    vectors: tuple[tuple[float, ...], ...]
    model: str
    usage: TokenUsage


@dataclass(frozen=True)
class ServiceInfo:
    """How a configured service presents itself in `/services`."""

    name: str
    simulated: bool
    capabilities: dict[str, bool] = field(default_factory=dict)


class Provider(Protocol):
    """One upstream service (OpenRouter, Gemini, an OpenAI-compatible server)."""

    @property
    def name(self) -> str:
        """The service name used in the API, e.g. `openrouter`."""
        ...

    @property
    def simulated(self) -> bool:
        """True when the base URL points at a built-in simulator."""
        ...

    def check(self, request: ProviderRequest) -> None:
        """Refuse, before any call, what this upstream cannot take (InvalidRequestError naming
        the parameter): e.g. an image URL for an upstream that needs the bytes."""
        ...

    async def complete(self, request: ProviderRequest) -> Completion:
        """Send a non-streaming request and return the whole answer."""
        ...

    def stream(self, request: ProviderRequest) -> AsyncGenerator[StreamEvent, None]:
        """Send a streaming request; yield TextDelta and ToolCallDelta events then exactly one
        StreamEnd.

        Closing the iterator early (`aclose`) must close the upstream connection at once.
        """
        ...

    async def embed(self, request: EmbeddingRequest) -> Embeddings:
        """Embed texts: one vector per input, in order."""
        ...
