"""OpenRouter's wire protocol (upstream-protocols §1-§2): `/api/v1/chat/completions` and `/api/v1/models`.

Streams are LF-framed SSE: a `: OPENROUTER PROCESSING` comment first and between events,
`gen-` ids, a `provider` field, usage with `cost` in a last `choices: []` chunk, `[DONE]`.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from aihub_core.simulators.models import OPENROUTER_MODELS, SimModel
from aihub_core.simulators.scenarios import Scenario, split_model
from aihub_core.simulators.server import HTTPRequest, Responder
from aihub_core.simulators.simulator import Simulator
from aihub_core.simulators.text import SimulatedAnswer, prompt_tokens, simulate_answer

IMAGE_TOKENS = 85  # what OpenAI-style vision models charge for a low-detail image
_KEEPALIVE = b": OPENROUTER PROCESSING\n\n"
_REASONING = "Considering the question step by step. "
_MIDSTREAM_ERROR = {
    "code": 502,
    "message": "Upstream connection reset",
    "metadata": {"error_type": "provider_unavailable"},
}
_ERRORS: dict[int, tuple[str, str]] = {
    400: (
        "This endpoint's maximum context length is 131072 tokens. You requested about 140000 tokens.",
        "context_length_exceeded",
    ),
    401: ("No auth credentials found", "unauthorized"),
    404: ("Not Found", "not_found"),
    429: ("Rate limit exceeded: too many requests, please retry shortly", "rate_limit_exceeded"),
    500: ("Internal Server Error", "server"),
    503: ("provider overloaded", "provider_overloaded"),
}


@dataclass(frozen=True)
class _Call:
    """One accepted chat request, ready to answer."""

    model: SimModel
    scenario: Scenario
    answer: SimulatedAnswer
    prompt_tokens: int
    envelope: dict[str, Any]

    @property
    def finish(self) -> str:
        if self.scenario.blocked:
            return "content_filter"
        return "length" if self.answer.truncated else "stop"

    def usage(self) -> dict[str, Any]:
        completion = len(self.answer.tokens) + self.answer.thoughts  # reasoning is part of completion here
        cost = self.prompt_tokens * float(self.model.prompt_price) + completion * float(
            self.model.completion_price
        )
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": self.prompt_tokens + completion,
            "cost": cost,
            "is_byok": False,
            "prompt_tokens_details": {"cached_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": self.answer.thoughts},
        }


class OpenRouterSimulator(Simulator):
    """A simulated OpenRouter; `start()` returns `http://127.0.0.1:PORT/api/v1`."""

    base_path = "/api/v1"
    catalog = OPENROUTER_MODELS

    async def route(self, request: HTTPRequest, body: Any, responder: Responder) -> None:
        """`POST /chat/completions`, `GET /models`; anything else is a 404."""
        path = request.path.removeprefix(self.base_path) if request.path.startswith(self.base_path) else ""
        if (request.method, path) == ("POST", "/chat/completions"):
            await self._chat(request, body, responder)
        elif (request.method, path) == ("GET", "/models"):
            await self.send_json(responder, 200, {"data": [_listing(m) for m in self.models.values()]})
        else:
            await self.reject(responder, 404, f"Not Found: {request.method} {request.path}")

    async def reject(self, responder: Responder, status: int, message: str) -> None:
        """`{"error": {"code": <int status>, "message", "metadata": {"error_type"}}}`."""
        headers = {}
        if status == 429:
            headers = {
                "retry-after": "12",
                "x-ratelimit-limit": "20",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": str(int(time.time() + 12) * 1000),
            }
        error_type = _ERRORS.get(status, ("", "server"))[1]
        body = {"error": {"code": status, "message": message, "metadata": {"error_type": error_type}}}
        await self.send_json(responder, status, body, headers)

    async def _chat(self, request: HTTPRequest, body: Any, responder: Responder) -> None:
        auth = request.headers.get("authorization", "")
        if self.api_key is not None and auth != f"Bearer {self.api_key}":
            await self.reject(responder, 401, "No auth credentials found" if not auth else "User not found.")
            return
        call = await self._accept(request, body, responder)
        if call is None:
            return
        await self.pace(call.scenario.first_byte_delay)
        if call.scenario.status is not None:
            await self.reject(
                responder, call.scenario.status, _ERRORS.get(call.scenario.status, ("Error", ""))[0]
            )
        elif body.get("stream"):
            await self._stream(call, responder)
        else:
            await self.pace(call.scenario.stall)
            await self.send_json(responder, 200, _whole(call))

    async def _accept(self, request: HTTPRequest, body: Any, responder: Responder) -> _Call | None:
        """Validate the request as OpenRouter would; answer and return None when it is refused."""
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(body, dict) or not isinstance(body.get("model"), str) or not messages:
            await self.reject(responder, 400, "`model` and a non-empty `messages` list are required")
            return None
        model_id, suffix = split_model(body["model"])
        scenario = self.pick(request, suffix)
        model = self.models.get(model_id)
        if model is None or not model.chat:
            await self.reject(responder, 404, f"No endpoints found for {model_id}.")
            return None
        max_tokens = body.get("max_tokens", body.get("max_completion_tokens"))
        if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
            await self.reject(responder, 400, "max_tokens must be a positive integer")
            return None
        try:
            texts, images = _read_messages(messages)
        except ValueError as exc:
            await self.reject(responder, 400, str(exc))
            return None
        seed = json.dumps([model_id, messages], sort_keys=True)
        answer = simulate_answer(
            seed, model_id, max_tokens, unicode=scenario.unicode, thinking=scenario.thoughts
        )
        if scenario.blocked:
            answer = SimulatedAnswer((), False)
        envelope = {
            "id": f"gen-{int(time.time())}-{uuid.uuid4().hex[:20]}",
            "provider": "Simulated",
            "model": model_id,
            "created": int(time.time()),
        }
        return _Call(model, scenario, answer, prompt_tokens(texts, images, IMAGE_TOKENS), envelope)

    async def _stream(self, call: _Call, responder: Responder) -> None:
        scenario = call.scenario
        headers = {
            "content-type": "text/event-stream",
            "cache-control": "no-cache",
            "x-generation-id": call.envelope["id"],
        }
        await responder.start(200, headers)

        async def event(choices: list[dict[str, Any]], **extra: Any) -> None:
            chunk = {**call.envelope, "object": "chat.completion.chunk", "choices": choices, **extra}
            await self.write(
                responder, b"data: " + json.dumps(chunk, ensure_ascii=False).encode() + b"\n\n", scenario
            )

        def delta(content: str, finish: str | None = None, **more: str) -> list[dict[str, Any]]:
            return [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": content, **more},
                    "finish_reason": finish,
                    "native_finish_reason": finish,
                    "logprobs": None,
                }
            ]

        await responder.write(_KEEPALIVE)
        await event(delta(""))
        if scenario.thoughts:
            for _ in range(3):
                await self.pace()
                await event(delta("", reasoning=_REASONING))
        for index, (piece, _) in enumerate(call.answer.pieces() or [("", 0)]):
            await self.pace()
            await event(delta(piece))
            if index == 0:
                if scenario.midstream_error:
                    await event(delta("", "error"), error=_MIDSTREAM_ERROR)
                    await responder.end()
                    return
                await self.pace(scenario.stall)
                await responder.write(_KEEPALIVE)  # keep-alives come between events too
        if scenario.finish:
            await event(delta("", call.finish))
            if scenario.usage:
                await event([], usage=call.usage())
            await responder.write(b"data: [DONE]\n\n")
        await responder.end()


def _whole(call: _Call) -> dict[str, Any]:
    finish = call.finish if call.scenario.finish else None
    message = {
        "role": "assistant",
        "content": call.answer.text,
        "refusal": None,
        "reasoning": _REASONING * 3 if call.scenario.thoughts else None,
    }
    body: dict[str, Any] = {
        **call.envelope,
        "object": "chat.completion",
        "system_fingerprint": None,
        "choices": [
            {
                "index": 0,
                "logprobs": None,
                "finish_reason": finish,
                "native_finish_reason": finish,
                "message": message,
            }
        ],
    }
    if call.scenario.midstream_error:  # OpenRouter: once generation started, errors come inside a 200
        body["error"] = _MIDSTREAM_ERROR
        body["choices"][0]["finish_reason"] = "error"
    if call.scenario.usage:
        body["usage"] = call.usage()
    return body


def _read_messages(messages: list[Any]) -> tuple[list[str], int]:
    """The texts and the number of images of a Chat Completions `messages` list."""
    texts: list[str] = []
    images = 0
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in (
            "system",
            "user",
            "assistant",
            "tool",
        ):
            raise ValueError("each message needs a role of system, user, assistant or tool")
        content = message.get("content")
        parts = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if not isinstance(parts, list):
            raise ValueError("message content must be a string or a list of parts")
        for part in parts:
            if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif isinstance(part, dict) and part.get("type") == "image_url":
                url = (part.get("image_url") or {}).get("url", "")
                if not isinstance(url, str) or not url.startswith(("data:image/", "https://", "http://")):
                    raise ValueError("image_url.url must be a data: or http(s) URL")
                images += 1
            else:
                raise ValueError("unsupported content part")
    return texts, images


def _listing(model: SimModel) -> dict[str, Any]:
    modality = "text+image->text" if model.images else "text->text"
    return {
        "id": model.id,
        "canonical_slug": model.id,
        "name": model.name,
        "created": 1735689600,
        "description": f"{model.name}, served by the AI Hub simulator.",
        "context_length": model.context_length,
        "architecture": {
            "modality": modality,
            "input_modalities": ["text", "image"] if model.images else ["text"],
            "output_modalities": ["text"],
            "tokenizer": "Other",
            "instruct_type": None,
        },
        "pricing": {
            "prompt": model.prompt_price,
            "completion": model.completion_price,
            "request": "0",
            "image": "0",
            "web_search": "0",
            "internal_reasoning": "0",
        },
        "top_provider": {
            "context_length": model.context_length,
            "max_completion_tokens": model.max_output_tokens,
            "is_moderated": False,
        },
        "per_request_limits": None,
        "supported_parameters": ["max_tokens", "temperature", "top_p", "stop"],
    }
