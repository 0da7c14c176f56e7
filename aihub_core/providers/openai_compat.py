"""OpenAI Chat Completions over HTTP: OpenRouter, OpenAI itself, vLLM, Ollama, llama.cpp.

Tolerates the dialects (upstream-protocols §1.9, §2): SSE comments, usage in a final
`choices: []` chunk or not at all, errors inside a 200 answer or stream, int or string codes,
older vLLM's unwrapped `{"object": "error"}`, nulls omitted, `n > 1` (only choice 0 is read) and
tool calls (not offered to callers, so an answer that is only a tool call has empty text).
"""

from __future__ import annotations

import dataclasses
import email.utils
import time
from collections.abc import AsyncGenerator, Mapping
from typing import Any

import aiohttp
from yarl import URL

from aihub_core import json_text
from aihub_core.messages import Message, ProviderRequest
from aihub_core.providers._answer import Answer
from aihub_core.providers._http import HTTPProvider, UpstreamFailure
from aihub_core.providers.base import Completion, FinishReason, StreamEvent, TextDelta, TokenUsage
from aihub_core.providers.sse import SSEStream

_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "content_filter": "content_filter",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "error": "error",
}


class OpenAICompatibleProvider(HTTPProvider):
    """A Chat Completions service at `{base_url}/chat/completions` with an optional Bearer key."""

    @staticmethod
    def _auth_headers(api_key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_key}"}

    @staticmethod
    def _parse_failure(response: aiohttp.ClientResponse, body: bytes) -> UpstreamFailure:
        try:
            parsed = json_text.loads(body)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            # `{"error": {...}}` everywhere except older vLLM's bare `{"object": "error", "message": ...}`.
            failure = _failure_from(parsed.get("error", parsed))
        else:
            failure = UpstreamFailure(body.decode("utf-8", "replace").strip()[:200] or response.reason or "")
        return dataclasses.replace(failure, retry_after=_retry_after(response.headers))

    def _model_page(self, url: str, cursor: str | None, page_size: int | None) -> tuple[str, dict[str, str]]:
        # OpenRouter's `links.next`, relative to the page before; our key goes to the same origin only.
        if cursor is None:
            return url, {}
        here = URL(url)
        target = here.join(URL(cursor))
        if (target.scheme, target.host, target.port) != (here.scheme, here.host, here.port):
            raise self._upstream.malformed(f"pointed its model list to another origin: {target}")
        return str(target), {}

    @property
    def _url(self) -> str:
        return f"{self._base_url}/chat/completions"

    async def complete(self, request: ProviderRequest) -> Completion:
        """Send a non-streaming request and return the whole answer."""
        body = await self._upstream.post_json(self._url, _payload(request, stream=False), self._headers)
        answer = _Answer(request)
        choice = self._check(body, answer)
        if choice is not None:
            message = choice.get("message")
            if isinstance(message, dict) and isinstance(message.get("content"), str):
                answer.text.append(message["content"])
            answer.tool_calls = isinstance(message, dict) and bool(message.get("tool_calls"))
            answer.finish(choice.get("finish_reason") or "stop")  # a whole body is complete by its framing
        answer.read(body)
        return answer.completion(self._upstream)

    async def stream(self, request: ProviderRequest) -> AsyncGenerator[StreamEvent, None]:
        """Send a streaming request; yield TextDelta events then exactly one StreamEnd."""
        answer = _Answer(request)
        headers = {**self._headers, "Accept": "text/event-stream"}
        payload = _payload(request, stream=True)
        with answer.reading():
            async with self._upstream.post(self._url, payload, headers) as chunks:
                async for event in SSEStream(chunks):
                    if event.data.startswith("[DONE]"):
                        # The sentinel says the answer is complete: nothing after it is waited for.
                        answer.finish_reason = answer.finish_reason or "stop"
                        break
                    try:
                        chunk = json_text.loads(event.data)
                    except ValueError:
                        failure = UpstreamFailure("an unreadable stream event")
                        raise self._upstream.error(None, failure) from None
                    choice = self._check(chunk, answer)
                    answer.read(chunk)
                    if choice is None:
                        continue
                    delta = choice.get("delta")
                    delta = delta if isinstance(delta, dict) else {}
                    text = delta.get("content")
                    if isinstance(text, str) and text:
                        answer.text.append(text)
                        yield TextDelta(text)
                    answer.tool_calls = answer.tool_calls or bool(delta.get("tool_calls"))
                    if choice.get("finish_reason"):
                        answer.finish(choice["finish_reason"])
        yield answer.end(self._upstream)

    def _check(self, body: Any, answer: Answer) -> dict[str, Any] | None:
        """Raise on an in-band error; return choice 0, if this body has it (a usage chunk has none)."""
        if not isinstance(body, dict):
            raise self._upstream.error(None, UpstreamFailure("an answer that is not a JSON object"))
        choices = body.get("choices")
        # With n > 1 the choices interleave, one or more per chunk, in any order: go by `index`.
        choice = next(
            (
                c
                for c in (choices if isinstance(choices, list) else ())
                if isinstance(c, dict) and c.get("index", 0) == 0
            ),
            None,
        )
        error = body.get("error") or (choice or {}).get("error")
        if not error and body.get("object") == "error":
            error = body  # older vLLM, in a stream or a 200 body too
        if error:
            failure = _failure_from(error)
            code = error.get("code") if isinstance(error, dict) else None
            status = code if isinstance(code, int) and 400 <= code <= 599 else None
            raise self._upstream.error(status, failure, in_band=True, after_content=bool(answer.text))
        if "choices" not in body and "usage" not in body:
            raise self._upstream.error(None, UpstreamFailure("an answer without choices"))
        return choice


class _Answer(Answer):
    """What the responses have told us so far, read in this protocol."""

    tool_calls: bool = False

    def finish(self, reason: object) -> None:
        # As litellm does: a finish reason we do not know counts as `stop`; and an answer that
        # called a tool ends in `tool_calls` even where a server says `stop`.
        self.finish_reason = _FINISH.get(str(reason), "stop")
        if self.tool_calls and self.finish_reason == "stop":
            self.finish_reason = "tool_calls"

    def read(self, body: dict[str, Any]) -> None:
        """Take the reported model and usage, when a body carries them (the last one wins)."""
        if isinstance(body.get("model"), str) and body["model"]:
            self.model = body["model"]
        usage = body.get("usage")
        if isinstance(usage, dict):
            prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
            if isinstance(prompt, int) and isinstance(completion, int):
                self.usage = TokenUsage(prompt, completion)


def _payload(request: ProviderRequest, *, stream: bool) -> dict[str, Any]:
    payload: dict[str, Any] = {"model": request.model, "messages": [_message(m) for m in request.messages]}
    if request.max_tokens is not None:
        payload["max_tokens"] = request.max_tokens
    if request.temperature is not None:
        payload["temperature"] = request.temperature
    if stream:
        payload["stream"] = True
        payload["stream_options"] = {"include_usage": True}
    return payload


def _message(message: Message) -> dict[str, Any]:
    if not message.images:
        return {"role": message.role, "content": message.content}
    # Text before images, as OpenRouter recommends; images always as data URLs (Ollama takes no other).
    parts: list[dict[str, Any]] = [{"type": "text", "text": message.content}]
    parts.extend(
        {"type": "image_url", "image_url": {"url": f"data:{image.mime_type};base64,{image.data_b64}"}}
        for image in message.images
    )
    return {"role": message.role, "content": parts}


def _failure_from(error: object) -> UpstreamFailure:
    if not isinstance(error, dict):
        return UpstreamFailure(str(error))
    metadata = error.get("metadata")
    error_type = metadata.get("error_type") if isinstance(metadata, dict) else None
    code = error.get("code") if isinstance(error.get("code"), str) else error_type or error.get("type")
    message = str(error.get("message") or "")
    # Same 429, different meaning: an empty balance or a request bigger than the per-minute limit
    # will fail again however long we wait (§4.8).
    quota = "insufficient_quota" in (code, error.get("type")) or message.startswith("Request too large")
    return UpstreamFailure(message, str(code) if code else None, retryable=False if quota else None)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from `retry-after-ms` (OpenAI) or `Retry-After` (seconds or an HTTP date)."""
    try:
        if "retry-after-ms" in headers:
            return float(headers["retry-after-ms"]) / 1000
        if "retry-after" in headers:
            return float(headers["retry-after"])
    except ValueError:
        when = email.utils.parsedate_tz(headers.get("retry-after", ""))
        if when is not None:
            return max(0.0, email.utils.mktime_tz(when) - time.time())
    return None
