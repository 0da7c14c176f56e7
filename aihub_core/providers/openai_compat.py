"""OpenAI Chat Completions over HTTP: OpenRouter, OpenAI itself, vLLM, Ollama, llama.cpp.

Tolerates the dialects (upstream-protocols §1.9, §2): SSE comments, usage in a final
`choices: []` chunk or not at all, errors inside a 200 answer or stream, int or string codes,
older vLLM's unwrapped `{"object": "error"}`, nulls omitted, `n > 1` (only choice 0 is read), and
tool calls however their pieces are keyed (`_tool_calls`). Request bodies: `openai_payload`.
Embeddings: `POST {base_url}/embeddings`, float vectors.
"""

from __future__ import annotations

import base64
import dataclasses
import email.utils
import json
import struct
import time
from collections.abc import AsyncGenerator, Mapping
from typing import Any

import aiohttp
from yarl import URL

from aihub_core import json_text
from aihub_core.limits.tokens import estimate_text
from aihub_core.messages import EmbeddingRequest, ProviderRequest
from aihub_core.providers._answer import Answer
from aihub_core.providers._http import HTTPProvider, UpstreamFailure
from aihub_core.providers.base import (
    Completion,
    Embeddings,
    FinishReason,
    StreamEvent,
    TextDelta,
    TokenUsage,
)
from aihub_core.providers.openai_payload import chat_payload, embeddings_payload
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

    def check(self, request: ProviderRequest) -> None:
        """Everything the message-array form carries passes through as it is: nothing to refuse."""

    async def complete(self, request: ProviderRequest) -> Completion:
        """Send a non-streaming request and return the whole answer."""
        body = await self._upstream.post_json(self._url, chat_payload(request, stream=False), self._headers)
        answer = _Answer(request)
        choice = self._check(body, answer)
        if choice is not None:
            message = choice.get("message")
            message = message if isinstance(message, dict) else {}
            if isinstance(message.get("content"), str):
                answer.text.append(message["content"])
            for call in _list(message.get("tool_calls")):
                function = _dict(call.get("function"))
                answer.tool_calls.whole(
                    _str(call.get("id")), _str(function.get("name")), _arguments(function)
                )
            answer.finish_raw(
                choice.get("finish_reason") or "stop"
            )  # a whole body is complete by its framing
        answer.read(body)
        return answer.completion(self._upstream)

    async def embed(self, request: EmbeddingRequest) -> Embeddings:
        """Embed texts at `{base_url}/embeddings`: one vector per input, in order."""
        url = f"{self._base_url}/embeddings"
        body = await self._upstream.post_json(url, embeddings_payload(request), self._headers)
        if isinstance(body, dict) and body.get("error"):
            raise self._upstream.error(None, _failure_from(body["error"]), in_band=True)
        rows = sorted(
            (row for row in _list(body.get("data") if isinstance(body, dict) else None)),
            key=lambda row: row.get("index", 0) if isinstance(row.get("index"), int) else 0,
        )
        vectors = tuple(_vector(row.get("embedding")) for row in rows)
        if len(vectors) != len(request.inputs) or any(v is None for v in vectors):
            raise self._upstream.malformed(f"sent {len(vectors)} embeddings for {len(request.inputs)} inputs")
        usage = _dict(body.get("usage"))
        prompt = usage.get("prompt_tokens")
        if isinstance(prompt, int):
            tokens = TokenUsage(prompt, 0)
        else:  # a server that counts nothing: estimate, as for chat
            tokens = TokenUsage(sum(estimate_text(text) for text in request.inputs), 0, source="estimated")
        model = body.get("model") if isinstance(body.get("model"), str) and body["model"] else request.model
        return Embeddings(tuple(v for v in vectors if v is not None), model, tokens)

    async def stream(self, request: ProviderRequest) -> AsyncGenerator[StreamEvent, None]:
        """Send a streaming request; yield TextDelta events then exactly one StreamEnd."""
        answer = _Answer(request)
        headers = {**self._headers, "Accept": "text/event-stream"}
        payload = chat_payload(request, stream=True)
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
                    for call in _list(delta.get("tool_calls")):
                        function = _dict(call.get("function"))
                        key = call.get("index") if isinstance(call.get("index"), int) else None
                        piece = answer.tool_calls.piece(
                            key, _str(call.get("id")), _str(function.get("name")), _arguments(function)
                        )
                        if piece is not None:
                            yield piece
                    if choice.get("finish_reason"):
                        answer.finish_raw(choice["finish_reason"])
        yield answer.end(self._upstream)

    def _check(self, body: Any, answer: Answer) -> dict[str, Any] | None:
        """Raise on an in-band error; return choice 0, if this body has it (a usage chunk has none)."""
        if not isinstance(body, dict):
            raise self._upstream.error(None, UpstreamFailure("an answer that is not a JSON object"))
        choices = body.get("choices")
        # With n > 1 the choices interleave, one or more per chunk, in any order: go by `index`.
        # (A loop, not next() over a generator: this runs once per streamed event.)
        choice = None
        if isinstance(choices, list):
            for c in choices:
                if isinstance(c, dict) and c.get("index", 0) == 0:
                    choice = c
                    break
        error = body.get("error") or (choice or {}).get("error")
        if not error and body.get("object") == "error":
            error = body  # older vLLM, in a stream or a 200 body too
        if error:
            failure = _failure_from(error)
            code = error.get("code") if isinstance(error, dict) else None
            status = code if isinstance(code, int) and 400 <= code <= 599 else None
            raise self._upstream.error(status, failure, in_band=True, after_content=answer.started)
        if "choices" not in body and "usage" not in body:
            raise self._upstream.error(None, UpstreamFailure("an answer without choices"))
        return choice


class _Answer(Answer):
    """What the responses have told us so far, read in this protocol."""

    def finish_raw(self, reason: object) -> None:
        # As litellm does: a finish reason we do not know counts as `stop`.
        self.finish(_FINISH.get(str(reason), "stop"))

    def read(self, body: dict[str, Any]) -> None:
        """Take the reported model and usage, when a body carries them (the last one wins)."""
        if isinstance(body.get("model"), str) and body["model"]:
            self.model = body["model"]
        usage = body.get("usage")
        if isinstance(usage, dict):
            prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
            if isinstance(prompt, int) and isinstance(completion, int):
                self.usage = TokenUsage(prompt, completion)


def _list(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _arguments(function: dict[str, Any]) -> str:
    """A call's arguments as JSON text; a server that sends them as an object gets them encoded."""
    arguments = function.get("arguments")
    if isinstance(arguments, str):
        return arguments
    return "" if arguments is None else json.dumps(arguments, ensure_ascii=False)


def _vector(value: object) -> tuple[float, ...] | None:
    """An embedding as floats; base64 (little-endian float32) from a server that ignored our format."""
    if isinstance(value, list) and all(isinstance(x, int | float) for x in value):
        return tuple(float(x) for x in value)
    if isinstance(value, str):
        try:
            raw = base64.b64decode(value, validate=True)
        except ValueError:
            return None
        if len(raw) % 4 == 0:
            return struct.unpack(f"<{len(raw) // 4}f", raw)
    return None


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
