"""The Gemini API's wire protocol (upstream-protocols §3) under `/v1beta`.

`models/{m}:generateContent`, `:streamGenerateContent?alt=sse` (CRLF framing, no `[DONE]`,
cumulative usageMetadata on every chunk, finishReason only on the last) and a paginated
`models` list. Errors are Google's pretty-printed `{"error": {code, message, status, details}}`.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

from aihub_core.simulators.embeddings import embedding_vector
from aihub_core.simulators.gemini_payloads import AnswerChunks, listing
from aihub_core.simulators.gemini_requests import camel, read_request
from aihub_core.simulators.models import GEMINI_MODELS
from aihub_core.simulators.scenarios import split_model
from aihub_core.simulators.server import HTTPRequest, Responder
from aihub_core.simulators.simulator import Simulator
from aihub_core.simulators.text import TOOL_ARGS, TOOL_NAME, exhausted, prompt_tokens, simulate_answer
from aihub_core.simulators.tools import SimCall, respond

PAGE_SIZE = 3  # small on purpose: every client of the list has to follow nextPageToken
EMBED_BATCH = 100  # batchEmbedContents' limit
_TYPE = "type.googleapis.com/google.rpc."
_STATUS = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_MIDSTREAM = {
    "code": 503,
    "message": "The model is overloaded. Please try again later.",
    "status": "UNAVAILABLE",
}
# A per-day quota: the delay is until tomorrow, so retrying in 20 s would only fail again (§3.8).
_PER_DAY = (
    429,
    "You exceeded your current quota, please check your plan and billing details.",
    [
        {
            "@type": _TYPE + "QuotaFailure",
            "violations": [
                {
                    "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                    "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
                }
            ],
        },
        {"@type": _TYPE + "RetryInfo", "retryDelay": "20s"},
    ],
)
_SCENARIO_ERRORS: dict[int, tuple[int, str, list[dict[str, Any]]]] = {
    400: (400, "The input token count (1048577) exceeds the maximum number of tokens allowed (1048576).", []),
    401: (
        400,
        "API key not valid. Please pass a valid API key.",
        [
            {
                "@type": _TYPE + "ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            }
        ],
    ),
    429: (
        429,
        "You exceeded your current quota, please check your plan and billing details. Please retry in 1.5s.",
        [{"@type": _TYPE + "RetryInfo", "retryDelay": "1.5s"}],
    ),
    500: (
        500,
        "An internal error has occurred. Please retry or report in https://developers.generativeai.google/"
        "guide/troubleshooting",
        [],
    ),
    503: (503, "The model is overloaded. Please try again later.", []),
}


class GeminiSimulator(Simulator):
    """A simulated Gemini API; `start()` returns `http://127.0.0.1:PORT/v1beta`."""

    base_path = "/v1beta"
    catalog = GEMINI_MODELS

    async def route(self, request: HTTPRequest, body: Any, responder: Responder) -> None:
        """Generate, stream, list and get models; anything else is a 404."""
        path = (
            unquote(request.path.removeprefix(self.base_path))
            if request.path.startswith(self.base_path)
            else ""
        )
        key = request.headers.get("x-goog-api-key") or request.query.get("key")
        name, _, method = path.removeprefix("/models/").partition(":")
        if self.api_key is not None and key != self.api_key:
            if key:
                await self._error(responder, *_SCENARIO_ERRORS[401])
            else:
                await self.reject(
                    responder,
                    403,
                    "Method doesn't allow unregistered callers (callers without "
                    "established identity). Please use API Key or other form of API consumer identity.",
                )
        elif (
            request.method == "POST"
            and path.startswith("/models/")
            and method in ("generateContent", "streamGenerateContent")
        ):
            stream = method == "streamGenerateContent"
            await self._generate(request, camel(body), name, stream, responder)
        elif request.method == "POST" and path.startswith("/models/") and method == "batchEmbedContents":
            await self._embed(request, camel(body), name, responder)
        elif request.method == "GET" and path == "/models":
            await self._list(request, responder)
        elif request.method == "GET" and path.startswith("/models/") and not method:
            model = self.models.get(name.removeprefix("models/"))
            if model is None:
                await self.reject(responder, 404, f"models/{name} is not found for API version v1beta.")
            else:
                await self.send_json(responder, 200, listing(model))
        else:
            await self.reject(responder, 404, f"Method not found: {request.method} {request.path}")

    async def reject(self, responder: Responder, status: int, message: str) -> None:
        """Google's error shape, with the canonical status name for the HTTP code."""
        await self._error(responder, status, message, [])

    async def _error(
        self, responder: Responder, status: int, message: str, details: list[dict[str, Any]]
    ) -> None:
        error = {"code": status, "message": message, "status": _STATUS.get(status, "UNKNOWN")}
        if details:
            error["details"] = details
        body = json.dumps({"error": error}, indent=2).encode()
        await responder.send(status, {"content-type": "application/json; charset=UTF-8"}, body)

    async def _list(self, request: HTTPRequest, responder: Responder) -> None:
        names = sorted(self.models)
        token = request.query.get("pageToken")
        try:
            size = int(request.query.get("pageSize") or 0) or PAGE_SIZE  # 0 means the default, as Google's
            if size < 0:
                raise ValueError(size)
            start = names.index(base64.urlsafe_b64decode(token).decode()) + 1 if token else 0
        except (ValueError, binascii.Error):
            await self.reject(responder, 400, "Invalid page token or page size.")
            return
        page = names[start : start + size]
        body: dict[str, Any] = {"models": [listing(self.models[n]) for n in page]}
        if start + size < len(names):
            body["nextPageToken"] = base64.urlsafe_b64encode(page[-1].encode()).decode()
        await self.send_json(responder, 200, body)

    async def _embed(self, request: HTTPRequest, body: Any, name: str, responder: Responder) -> None:
        """`:batchEmbedContents`: a deterministic unit vector per request; no token counts (§3)."""
        model_id, suffix = split_model(name.removeprefix("models/"))
        scenario = self.pick(request, suffix)
        model = self.models.get(model_id)
        if model is None or model.chat:
            message = (
                f"models/{model_id} is not found for API version v1beta, or is not supported for embedContent"
            )
            await self.reject(responder, 404, message + ".")
            return
        if scenario.status is not None:
            await self._error(
                responder, *_SCENARIO_ERRORS.get(scenario.status, (scenario.status, "Error", []))
            )
            return
        requests = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(requests, list) or not requests:
            await self.reject(
                responder, 400, "* BatchEmbedContentsRequest.requests: requests is not specified"
            )
            return
        if len(requests) > EMBED_BATCH:
            await self.reject(
                responder,
                400,
                f"* BatchEmbedContentsRequest.requests: at most {EMBED_BATCH} requests can be in one batch",
            )
            return
        vectors = []
        for index, one in enumerate(requests):
            parts = (one.get("content") or {}).get("parts") if isinstance(one, dict) else None
            size = one.get("outputDimensionality") if isinstance(one, dict) else None
            if one.get("model") != f"models/{name.removeprefix('models/')}":
                await self.reject(
                    responder,
                    400,
                    f"* BatchEmbedContentsRequest.requests[{index}].model: must be the batch's model",
                )
                return
            if (
                not isinstance(parts, list)
                or not parts
                or not all(isinstance(p.get("text"), str) for p in parts)
            ):
                await self.reject(
                    responder,
                    400,
                    f"* BatchEmbedContentsRequest.requests[{index}].content.parts: text parts are required",
                )
                return
            if size is not None and (not isinstance(size, int) or not 1 <= size <= model.dimensions):
                await self.reject(
                    responder,
                    400,
                    f"* BatchEmbedContentsRequest.requests[{index}].output_dimensionality: out of range",
                )
                return
            text = "".join(p["text"] for p in parts)
            vectors.append({"values": embedding_vector(text, model.dimensions, size)})
        await self.send_json(responder, 200, {"embeddings": vectors})

    async def _generate(
        self, request: HTTPRequest, body: Any, name: str, stream: bool, responder: Responder
    ) -> None:
        model_id, suffix = split_model(name.removeprefix("models/"))
        scenario = self.pick(request, suffix)
        model = self.models.get(model_id)
        if model is None or not model.chat:
            await self.reject(
                responder,
                404,
                f"models/{model_id} is not found for API version v1beta, or is not "
                "supported for generateContent. Call ListModels to see the list of available models "
                "and their supported methods.",
            )
            return
        try:
            read = read_request(body)
        except ValueError as exc:
            await self.reject(responder, 400, str(exc))
            return
        max_tokens = read.max_tokens
        await self.first_byte(scenario)
        if scenario.status is not None:
            failure = _SCENARIO_ERRORS.get(scenario.status, (scenario.status, "Error", []))
            await self._error(
                responder, *(_PER_DAY if scenario.error_kind == "insufficient_quota" else failure)
            )
            return
        seed = json.dumps([model_id, body.get("systemInstruction"), body["contents"]], sort_keys=True)
        thinking = model.thinks or scenario.thoughts
        answer = simulate_answer(seed, model_id, max_tokens, unicode=scenario.unicode, thinking=thinking)
        answer, calls = respond(read.asked, answer, max_tokens)
        answer = replace(
            answer, thoughts=simulate_answer(seed, model_id, max_tokens, thinking=thinking).thoughts
        )
        if scenario.tool_call:
            calls = (SimCall(TOOL_NAME, TOOL_ARGS),)
        if scenario.exhausted:
            answer = exhausted(answer, max_tokens)
        other = simulate_answer(seed + "#1", model_id, max_tokens) if scenario.choices > 1 else None
        text_tokens = prompt_tokens(read.texts, 0, 0)
        chunks = AnswerChunks(model_id, scenario, answer, text_tokens, read.images, other, calls)
        if not stream:
            if scenario.midstream_error:
                await self._error(responder, *_SCENARIO_ERRORS[500])
                return
            await self.pace(scenario.stall)
            await self.send_json(responder, 200, chunks.whole())
        elif request.query.get("alt") != "sse" or scenario.json_array:
            await self._array(chunks, responder)
        else:
            await self._sse(chunks, responder)

    async def _sse(self, chunks: AnswerChunks, responder: Responder) -> None:
        scenario = chunks.scenario
        end = self.event_end(scenario, crlf=True)
        await responder.start(200, {"content-type": "text/event-stream"})
        for index, chunk in enumerate(chunks):
            if index:
                await self.pace()
            data = json.dumps(chunk, ensure_ascii=False, separators=(",", ": "))
            await self.write(responder, f"data: {data}".encode() + end, scenario)
            if index == int(scenario.thoughts) and not scenario.blocked:  # after the first piece of text
                if scenario.midstream_error:
                    error = json.dumps(
                        {"error": _MIDSTREAM}, indent=2 if scenario.error_shape == "raw" else None
                    )
                    # Raw: pretty-printed over several lines with no `data:` (python-genai balances braces).
                    prefix = "" if scenario.error_shape == "raw" else "data: "
                    await self.write(responder, f"{prefix}{error}".encode() + end, scenario)
                    break
                if scenario.drop:
                    return  # no terminating chunk: the connection is cut mid-body
                await self.pace(scenario.stall)
        await responder.end()

    async def _array(self, chunks: AnswerChunks, responder: Responder) -> None:
        """Without `alt=sse`: one JSON array, pretty-printed, written element by element."""
        await responder.start(200, {"content-type": "application/json; charset=UTF-8"})
        for index, chunk in enumerate(chunks):
            if index:
                await self.pace()
            element = json.dumps(chunk, ensure_ascii=False, indent=2)
            await self.write(
                responder, ("[" if not index else ",\r\n").encode() + element.encode(), chunks.scenario
            )
        await responder.write(b"]")
        await responder.end()
