"""An answer as it arrives: what every adapter accumulates from a response or a stream."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from aihub_core.errors import UpstreamError
from aihub_core.limits.tokens import estimate_messages, estimate_text
from aihub_core.messages import ProviderRequest
from aihub_core.providers._http import UpstreamClient, UpstreamFailure
from aihub_core.providers.base import Completion, FinishReason, StreamEnd, TokenUsage


@dataclass
class Answer:
    """The text, finish reason, usage and model an upstream has reported so far."""

    request: ProviderRequest
    text: list[str] = field(default_factory=list)
    finish_reason: FinishReason | None = None
    usage: TokenUsage | None = None
    model: str = ""

    def __post_init__(self) -> None:
        self.model = self.model or self.request.model

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Around the reading of a stream: once text has gone out, a failure is not retryable,
        because a retry would repeat what the caller has already shown."""
        try:
            yield
        except UpstreamError as err:
            if self.text:
                err.details["retryable"] = "false"
            raise

    def end(self, upstream: UpstreamClient) -> StreamEnd:
        """The final event; an answer that never said why it stopped was cut off, and is an error."""
        after = bool(self.text)
        if self.finish_reason is None:
            failure = UpstreamFailure("the answer ended without a finish reason")
            raise upstream.error(None, failure, after_content=after)
        if self.finish_reason == "error":
            failure = UpstreamFailure("the answer ended with finish reason `error`")
            raise upstream.error(None, failure, after_content=after)
        # No usage reported (an OpenAI-compatible server asked without include_usage): estimate it.
        usage = self.usage or TokenUsage(
            estimate_messages(self.request.messages), estimate_text("".join(self.text)), source="estimated"
        )
        return StreamEnd(self.finish_reason, usage, self.model)

    def completion(self, upstream: UpstreamClient) -> Completion:
        """The whole answer of a non-streaming call."""
        end = self.end(upstream)
        return Completion("".join(self.text), end.model, end.finish_reason, end.usage)
