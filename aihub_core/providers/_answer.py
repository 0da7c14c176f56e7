"""An answer as it arrives: what every adapter accumulates from a response or a stream."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from aihub_core.errors import UpstreamError
from aihub_core.limits.tokens import TOOL_OVERHEAD, estimate_prompt, estimate_text
from aihub_core.messages import ProviderRequest
from aihub_core.providers._http import UpstreamClient, UpstreamFailure
from aihub_core.providers._tool_calls import ToolCallAssembler
from aihub_core.providers.base import Completion, FinishReason, StreamEnd, TokenUsage


@dataclass
class Answer:
    """The text, tool calls, finish reason, usage and model an upstream has reported so far."""

    request: ProviderRequest
    text: list[str] = field(default_factory=list)
    tool_calls: ToolCallAssembler = field(default_factory=ToolCallAssembler)
    finish_reason: FinishReason | None = None
    usage: TokenUsage | None = None
    model: str = ""

    def __post_init__(self) -> None:
        self.model = self.model or self.request.model

    @property
    def started(self) -> bool:
        """Whether any of the answer (text or a tool call) has gone out."""
        return bool(self.text) or bool(self.tool_calls)

    def finish(self, reason: FinishReason) -> None:
        """Take the finish reason; an answer that called a tool ends in `tool_calls` even where a
        server says `stop` (Gemini always does)."""
        self.finish_reason = "tool_calls" if reason == "stop" and self.tool_calls else reason

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Around the reading of a stream: once text or a tool call has gone out, a failure is not
        retryable, because a retry would repeat what the caller has already shown."""
        try:
            yield
        except UpstreamError as err:
            if self.started:
                err.details["retryable"] = "false"
            raise

    def end(self, upstream: UpstreamClient) -> StreamEnd:
        """The final event; an answer that never said why it stopped was cut off, and is an error."""
        after = self.started
        if self.finish_reason is None:
            failure = UpstreamFailure("the answer ended without a finish reason")
            raise upstream.error(None, failure, after_content=after)
        if self.finish_reason == "error":
            failure = UpstreamFailure("the answer ended with finish reason `error`")
            raise upstream.error(None, failure, after_content=after)
        # No usage reported (an OpenAI-compatible server asked without include_usage): estimate it.
        usage = self.usage or TokenUsage(
            estimate_prompt(self.request), self.estimated_completion(), source="estimated"
        )
        return StreamEnd(self.finish_reason, usage, self.model)

    def estimated_completion(self) -> int:
        """The answer's tokens as estimated: its text and its tool calls."""
        calls = sum(
            TOOL_OVERHEAD + estimate_text(c.name) + estimate_text(c.arguments) for c in self.tool_calls.calls
        )
        return estimate_text("".join(self.text)) + calls

    def completion(self, upstream: UpstreamClient) -> Completion:
        """The whole answer of a non-streaming call."""
        end = self.end(upstream)
        return Completion("".join(self.text), end.model, end.finish_reason, end.usage, self.tool_calls.calls)
