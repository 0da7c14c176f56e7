"""The Gemini API (generativelanguage.googleapis.com, API-key flavour): generateContent and its SSE stream.

Every stream chunk is a whole response whose `usageMetadata` is cumulative, so the last one is
the bill (never the sum), and completion = candidates + thoughts (upstream-protocols §3.5).
A stream has no `[DONE]`: it ends at EOF, and one that ends without a finishReason failed.
Bare JSON without `data:` (a pretty-printed mid-stream error, or the JSON-array framing a
stream has when `alt=sse` got lost on the way) is read too, by balancing braces as python-genai does.
A function call arrives whole, in a part of its own (its `args` an object): it becomes one tool-call
delta with an id of ours, unless Gemini gave one. Request bodies: `gemini_payload`.
Embeddings: `models/{id}:batchEmbedContents`, at most 100 texts a request; Gemini counts no tokens
for them, so their usage is estimated.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncGenerator
from typing import Any
from urllib.parse import quote

import aiohttp

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
    ToolCallDelta,
)
from aihub_core.providers.gemini_payload import generate_payload
from aihub_core.providers.sse import SSEStream

_FINISH: dict[str, FinishReason] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    **dict.fromkeys(
        ("SAFETY", "RECITATION", "LANGUAGE", "OTHER", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII"),
        "content_filter",
    ),
}
_RETRY_DELAY = re.compile(r"^(\d+(?:\.\d*)?)s$")
EMBED_BATCH = 100  # batchEmbedContents takes at most this many requests


class GeminiProvider(HTTPProvider):
    """The Gemini API at `{base_url}` (…/v1beta), authenticated with `x-goog-api-key`."""

    @staticmethod
    def _auth_headers(api_key: str) -> dict[str, str]:
        return {"x-goog-api-key": api_key}

    @staticmethod
    def _parse_failure(response: aiohttp.ClientResponse, body: bytes) -> UpstreamFailure:
        try:
            parsed = json_text.loads(body)
        except ValueError:
            parsed = None
        if isinstance(parsed, list) and len(parsed) == 1:
            parsed = parsed[0]
        if isinstance(parsed, dict) and "error" in parsed:
            return _failure_from(parsed["error"])
        return UpstreamFailure(body.decode("utf-8", "replace").strip()[:200] or response.reason or "")

    def check(self, request: ProviderRequest) -> None:
        """Refuse what Gemini cannot take: image URLs other than its file URIs, tool results that
        answer no call, arguments that are not an object, schemas it cannot express."""
        generate_payload(request, self._base_url)

    async def complete(self, request: ProviderRequest) -> Completion:
        """Send a non-streaming request and return the whole answer."""
        url = self._url(request.model, "generateContent")
        body = await self._upstream.post_json(url, generate_payload(request, self._base_url), self._headers)
        answer = _Answer(request)
        answer.read(self._check(body, answer))
        answer.finish_reason = answer.finish_reason or "stop"  # a whole body is complete by its framing
        return answer.completion(self._upstream)

    async def embed(self, request: EmbeddingRequest) -> Embeddings:
        """Embed texts with batchEmbedContents (in batches of 100, side by side), in order."""
        batches = [request.inputs[i : i + EMBED_BATCH] for i in range(0, len(request.inputs), EMBED_BATCH)]
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(self._embed_batch(request, batch)) for batch in batches]
        except ExceptionGroup as failed:
            # The first batch that failed speaks for the call (the others were cancelled).
            raise failed.exceptions[0] from None
        vectors = tuple(vector for task in tasks for vector in task.result())
        usage = TokenUsage(sum(estimate_text(text) for text in request.inputs), 0, source="estimated")
        return Embeddings(vectors, request.model, usage)

    async def _embed_batch(
        self, request: EmbeddingRequest, texts: tuple[str, ...]
    ) -> list[tuple[float, ...]]:
        name = f"models/{request.model.removeprefix('models/')}"
        one: dict[str, Any] = {"model": name}
        if request.dimensions is not None:
            one["outputDimensionality"] = request.dimensions
        payload = {"requests": [{**one, "content": {"parts": [{"text": text}]}} for text in texts]}
        body = await self._upstream.post_json(
            self._url(request.model, "batchEmbedContents"), payload, self._headers
        )
        if isinstance(body, dict) and body.get("error"):
            raise self._upstream.error(None, _failure_from(body["error"]), in_band=True)
        rows = body.get("embeddings") if isinstance(body, dict) else None
        vectors = [
            tuple(float(x) for x in row["values"])
            for row in (rows if isinstance(rows, list) else ())
            if isinstance(row, dict) and isinstance(row.get("values"), list)
        ]
        if len(vectors) != len(texts):
            raise self._upstream.malformed(f"sent {len(vectors)} embeddings for {len(texts)} inputs")
        return vectors

    async def stream(self, request: ProviderRequest) -> AsyncGenerator[StreamEvent, None]:
        """Send a streaming request; yield TextDelta events then exactly one StreamEnd."""
        url = self._url(request.model, "streamGenerateContent") + "?alt=sse"
        answer = _Answer(request)
        headers = {**self._headers, "Accept": "text/event-stream"}
        bare = _BareJSON()
        payload = generate_payload(request, self._base_url)
        with answer.reading():
            async with self._upstream.post(url, payload, headers) as chunks:
                async for event in SSEStream(chunks, raw_lines=True):
                    for data in bare.feed(event.data) if event.raw else (event.data,):
                        try:
                            chunk = json_text.loads(data)
                        except ValueError:
                            failure = UpstreamFailure("an unreadable stream event")
                            raise self._upstream.error(None, failure) from None
                        for piece in answer.read(self._check(chunk, answer)):
                            yield piece
        yield answer.end(self._upstream)

    def _model_page(self, url: str, cursor: str | None, page_size: int | None) -> tuple[str, dict[str, str]]:
        # `nextPageToken` goes back as `pageToken`, beside the same `pageSize`.
        return url, {k: str(v) for k, v in (("pageSize", page_size), ("pageToken", cursor)) if v}

    def _url(self, model: str, method: str) -> str:
        return f"{self._base_url}/models/{quote(model.removeprefix('models/'), safe='@')}:{method}"

    def _check(self, body: Any, answer: Answer) -> dict[str, Any]:
        """Raise on an in-band `{"error": ...}`; return the response object."""
        if isinstance(body, list) and len(body) == 1:
            body = body[0]  # the JSON-array framing some proxies and error paths use
        if not isinstance(body, dict):
            raise self._upstream.error(None, UpstreamFailure("an answer that is not a JSON object"))
        if body.get("error"):
            failure = _failure_from(body["error"])
            code = body["error"].get("code") if isinstance(body["error"], dict) else None
            status = code if isinstance(code, int) else None
            raise self._upstream.error(status, failure, in_band=True, after_content=answer.started)
        return body


class _BareJSON:
    """Whole top-level JSON objects out of lines that are not SSE; `[`, `,` and `]` between them
    (the JSON-array framing) are skipped."""

    def __init__(self) -> None:
        self._text: list[str] = []
        self._depth = 0
        self._in_string = False
        self._escaped = False

    def feed(self, line: str) -> list[str]:
        """Take one line; return the objects it completed, as JSON text."""
        done: list[str] = []
        for char in line + "\n":
            if self._depth == 0 and char != "{":
                continue
            self._text.append(char)
            if self._escaped:
                self._escaped = False
            elif self._in_string:
                self._escaped = char == "\\"
                self._in_string = char != '"'
            elif char == '"':
                self._in_string = True
            elif char in "{[":
                self._depth += 1
            elif char in "}]":
                self._depth -= 1
                if self._depth == 0:
                    done.append("".join(self._text))
                    self._text = []
        return done


class _Answer(Answer):
    """What the responses have told us so far, read in this protocol."""

    def read(self, body: dict[str, Any]) -> list[TextDelta | ToolCallDelta]:
        """Take one response (or stream chunk) and return its new text and tool calls."""
        if isinstance(body.get("modelVersion"), str) and body["modelVersion"]:
            self.model = body["modelVersion"]
        self._read_usage(body.get("usageMetadata"))
        candidates = body.get("candidates")
        if not isinstance(candidates, list) or not candidates:
            feedback = body.get("promptFeedback")
            if isinstance(feedback, dict) and feedback.get("blockReason"):
                self.finish_reason = "content_filter"  # the prompt itself was blocked: no candidates at all
            return []
        # With candidateCount > 1 every chunk carries each candidate, in any order: go by `index`.
        candidate = next((c for c in candidates if isinstance(c, dict) and c.get("index", 0) == 0), {})
        content = candidate.get("content")
        parts = [
            p
            for p in (content.get("parts") if isinstance(content, dict) else None) or ()
            if isinstance(p, dict)
        ]
        text = "".join(
            part["text"] for part in parts if isinstance(part.get("text"), str) and not part.get("thought")
        )
        pieces: list[TextDelta | ToolCallDelta] = []
        if text:
            self.text.append(text)
            pieces.append(TextDelta(text))
        # A function call arrives whole, and its finish (STOP) maybe in a later chunk: the
        # assembler remembers it, and `finish` turns that STOP into `tool_calls`.
        for part in parts:
            call = part.get("functionCall")
            if isinstance(call, dict) and isinstance(call.get("name"), str):
                args = call.get("args") if isinstance(call.get("args"), dict) else {}
                call_id = call["id"] if isinstance(call.get("id"), str) else ""
                arguments = json.dumps(args, ensure_ascii=False)
                pieces.append(self.tool_calls.whole(call_id, call["name"], arguments))
        reason = candidate.get("finishReason")
        if isinstance(reason, str) and reason:
            self.finish(_finish(reason))
        return pieces

    def _read_usage(self, metadata: object) -> None:
        # Cumulative snapshots: replace, never add. Vertex sends some without any counts: skip those.
        if not isinstance(metadata, dict) or "promptTokenCount" not in metadata:
            return
        counts = {
            key: metadata.get(key)
            for key in ("promptTokenCount", "candidatesTokenCount", "thoughtsTokenCount")
        }
        prompt, candidates, thoughts = (value if isinstance(value, int) else 0 for value in counts.values())
        self.usage = TokenUsage(prompt, candidates + thoughts)


def _finish(reason: str) -> FinishReason:
    if reason.startswith("IMAGE_"):
        return "content_filter"
    # MALFORMED_FUNCTION_CALL, tool-call limits, FINISH_REASON_UNSPECIFIED and new values: as litellm, `stop`.
    return _FINISH.get(reason, "stop")


def _failure_from(error: object) -> UpstreamFailure:
    """Google's `{code, message, status, details[]}`: the key check and the retry delay hide in details."""
    if not isinstance(error, dict):
        return UpstreamFailure(str(error))
    details = error.get("details")
    auth, retry_after, per_day = False, None, False
    for detail in details if isinstance(details, list) else ():
        if not isinstance(detail, dict):
            continue
        if detail.get("reason") in ("API_KEY_INVALID", "API_KEY_EXPIRED"):
            auth = True
        match = _RETRY_DELAY.match(str(detail.get("retryDelay", "")))
        if match:
            retry_after = float(match[1])
        violations = detail.get("violations")
        # A per-day quota is spent until tomorrow: waiting out retryDelay would only fail again.
        per_day = per_day or any(
            isinstance(v, dict) and "PerDay" in str(v.get("quotaId", ""))
            for v in (violations if isinstance(violations, list) else ())
        )
    status = error.get("status")
    return UpstreamFailure(
        str(error.get("message") or status or ""),
        str(status) if status else None,
        retry_after,
        auth,
        retryable=False if per_day else None,
    )
