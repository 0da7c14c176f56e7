"""OpenRouter's wire protocol (upstream-protocols §1-§2): `/api/v1/chat/completions`, `/models`, `/key`.

Streams are LF-framed SSE: a `: OPENROUTER PROCESSING` comment first and between events,
`gen-` ids, a `provider` field, usage with `cost` in a last `choices: []` chunk, `[DONE]`.
A scenario's `dialect` makes it speak another OpenAI-compatible server (`openai_wire`).
"""

from __future__ import annotations

import json
from typing import Any

from aihub_core.limits.tokens import estimate_text
from aihub_core.simulators.embeddings import embedding_vector, encode_vector
from aihub_core.simulators.models import OPENROUTER_MODELS, SimModel
from aihub_core.simulators.openai_errors import error_response, message_for
from aihub_core.simulators.openai_models import ollama_images_ok, openai_listing
from aihub_core.simulators.openai_requests import read_chat
from aihub_core.simulators.openai_wire import REASONING, ChatCall
from aihub_core.simulators.scenarios import Dialect, split_model
from aihub_core.simulators.server import HTTPRequest, Responder
from aihub_core.simulators.simulator import Simulator
from aihub_core.simulators.text import (
    TOOL_ARGS,
    TOOL_NAME,
    SimulatedAnswer,
    exhausted,
    prompt_tokens,
    simulate_answer,
)
from aihub_core.simulators.tools import SimCall, respond

IMAGE_TOKENS = 85  # what OpenAI-style vision models charge for a low-detail image
_KEEPALIVE = b": OPENROUTER PROCESSING\n\n"
# The router entry of OpenRouter's list: `"-1"` prices (decided per request) and no context length.
_ROUTER = SimModel("openrouter/auto", "Auto Router", 0, 0, "-1", "-1", images=True)


class OpenRouterSimulator(Simulator):
    """A simulated OpenRouter; `start()` returns `http://127.0.0.1:PORT/api/v1`."""

    base_path = "/api/v1"
    catalog = OPENROUTER_MODELS

    async def route(self, request: HTTPRequest, body: Any, responder: Responder) -> None:
        """`POST /chat/completions`, `GET /models`, `GET /key`; anything else is a 404."""
        path = request.path.removeprefix(self.base_path) if request.path.startswith(self.base_path) else ""
        if (request.method, path) == ("POST", "/chat/completions"):
            await self._chat(request, body, responder)
        elif (request.method, path) == ("POST", "/embeddings"):
            await self._embeddings(request, body, responder)
        elif (request.method, path) == ("GET", "/models"):
            dialect = self.pick(request, None).dialect
            if dialect == "openrouter":
                # As OpenRouter's: text-output models only (embedding models have a list of their own).
                listed = [_listing(m) for m in (*self.models.values(), _ROUTER) if m.chat]
                await self.send_json(responder, 200, {"data": listed})
            else:  # an OpenAI-compatible server's list: ids only, no prices or context (§1.8, §1.9)
                body = {"object": "list", "data": [openai_listing(m, dialect) for m in self.models.values()]}
                await self.send_json(responder, 200, body)
        elif (request.method, path) == ("GET", "/key"):
            if self._authorized(request):
                await self.send_json(responder, 200, {"data": _key_info(request)})
            else:
                await self.reject(responder, 401, "No auth credentials found")
        else:
            await self.reject(responder, 404, f"Not Found: {request.method} {request.path}")

    async def reject(self, responder: Responder, status: int, message: str) -> None:
        """`{"error": {"code": <int status>, "message", "metadata": {"error_type"}}}`."""
        await self._error(responder, "openrouter", status, message)

    async def _error(
        self, responder: Responder, dialect: Dialect, status: int, message: str, kind: str = ""
    ) -> None:
        body, headers = error_response(dialect, status, message, kind)
        await self.send_json(responder, status, body, headers)

    def _authorized(self, request: HTTPRequest) -> bool:
        return self.api_key is None or request.headers.get("authorization") == f"Bearer {self.api_key}"

    async def _chat(self, request: HTTPRequest, body: Any, responder: Responder) -> None:
        if not self._authorized(request):
            auth = request.headers.get("authorization")
            await self.reject(responder, 401, "User not found." if auth else "No auth credentials found")
            return
        call = await self._accept(request, body, responder)
        if call is None:
            return
        scenario = call.scenario
        await self.first_byte(scenario)
        if scenario.status is not None:
            message = message_for(scenario.status)
            await self._error(responder, scenario.dialect, scenario.status, message, scenario.error_kind)
        elif scenario.dialect == "openai" and "stream_options" in body and not body.get("stream"):
            await self._error(responder, "openai", 400, "", "stream_options")  # OpenAI checks; OpenRouter not
        elif body.get("stream"):
            await self._stream(call, responder)
        else:
            await self.pace(scenario.stall)
            await self._whole(call, responder)

    async def _embeddings(self, request: HTTPRequest, body: Any, responder: Responder) -> None:
        """`POST /embeddings`: a deterministic unit vector per input (float or base64), usage with cost."""
        if not self._authorized(request):
            await self.reject(responder, 401, "No auth credentials found")
            return
        model_id, suffix = split_model(str(body.get("model", "")) if isinstance(body, dict) else "")
        scenario = self.pick(request, suffix)
        model = self.models.get(model_id)
        inputs = body.get("input") if isinstance(body, dict) else None
        inputs = [inputs] if isinstance(inputs, str) else inputs
        dimensions = body.get("dimensions") if isinstance(body, dict) else None
        if model is None or model.chat:
            await self.reject(responder, 404, f"No embedding endpoints found for {model_id}.")
        elif scenario.status is not None:
            await self._error(responder, scenario.dialect, scenario.status, message_for(scenario.status))
        elif not isinstance(inputs, list) or not inputs or not all(isinstance(i, str) and i for i in inputs):
            await self.reject(responder, 400, "input must be a non-empty string or list of non-empty strings")
        elif dimensions is not None and (
            not isinstance(dimensions, int) or not 1 <= dimensions <= model.dimensions
        ):
            await self.reject(responder, 400, f"dimensions must be between 1 and {model.dimensions}")
        else:
            base64_wanted = body.get("encoding_format") == "base64"
            data = [
                {
                    "object": "embedding",
                    "index": i,
                    "embedding": encode_vector(
                        embedding_vector(text, model.dimensions, dimensions), base64_wanted
                    ),
                }
                for i, text in enumerate(inputs)
            ]
            tokens = sum(estimate_text(text) for text in inputs)
            usage = {
                "prompt_tokens": tokens,
                "total_tokens": tokens,
                "cost": tokens * float(model.prompt_price),
            }
            await self.send_json(
                responder, 200, {"object": "list", "data": data, "model": model.id, "usage": usage}
            )

    async def _accept(self, request: HTTPRequest, body: Any, responder: Responder) -> ChatCall | None:
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
            read = read_chat(body)
        except ValueError as exc:
            await self.reject(responder, 400, str(exc))
            return None
        if scenario.dialect == "ollama" and not ollama_images_ok(messages):
            await self._error(responder, "ollama", 400, "invalid image input")
            return None
        seed = json.dumps([model_id, messages], sort_keys=True)
        answer = simulate_answer(
            seed, model_id, max_tokens, unicode=scenario.unicode, thinking=scenario.thoughts
        )
        answer, calls = respond(read.asked, answer, max_tokens)
        if scenario.tool_call:
            calls = (SimCall(TOOL_NAME, TOOL_ARGS),)
        if scenario.blocked or calls:
            answer = SimulatedAnswer((), False)
        if scenario.exhausted:
            answer = exhausted(answer, max_tokens)
        others = tuple(
            simulate_answer(f"{seed}#{n}", model_id, max_tokens) for n in range(1, scenario.choices)
        )
        options = body.get("stream_options")
        # vLLM turns usage on for any `stream_options` object; the others need include_usage.
        asked = isinstance(options, dict) and (
            scenario.dialect == "vllm" or bool(options.get("include_usage"))
        )
        prompt = prompt_tokens(read.texts, read.images, IMAGE_TOKENS)
        return ChatCall(model, scenario, answer, prompt, asked, others, calls)

    async def _whole(self, call: ChatCall, responder: Responder) -> None:
        data = json.dumps(call.whole(), ensure_ascii=False).encode()
        if not call.scenario.drop:
            await responder.send(200, {"content-type": "application/json"}, data)
            return
        # Cut after half the promised body: the client sees a connection closed mid-message.
        await responder.start(200, {"content-type": "application/json", "content-length": str(len(data))})
        await responder.write(data[: len(data) // 2])

    async def _stream(self, call: ChatCall, responder: Responder) -> None:
        scenario = call.scenario
        headers = {"content-type": "text/event-stream", "cache-control": "no-cache"}
        if call.dialect == "openrouter":
            headers["x-generation-id"] = call.id
        await responder.start(200, headers)
        end = self.event_end(scenario, crlf=False)
        keepalive = call.dialect == "openrouter"

        async def send(body: dict[str, Any]) -> None:
            await self.write(responder, call.encode(body, end), scenario)

        if keepalive:
            await responder.write(_KEEPALIVE)
        if call.calls:
            rows = call.tool_call_chunks()
        else:
            await send(call.chunk([call.delta(first=True, content="")]))
            for _ in range(3 if scenario.thoughts else 0):
                await self.pace()
                # The same text is `reasoning` (OpenRouter, vLLM, Ollama) or `reasoning_content` (§4.13).
                fields: dict[str, Any] = {"content": "" if keepalive else None}
                fields["reasoning" if call.dialect != "llamacpp" else "reasoning_content"] = REASONING
                await send(call.chunk([call.delta(**fields)]))
            rows = call.pieces() if call.answer.tokens else []
        for index, choices in enumerate(rows):
            await self.pace()
            await send(call.chunk(choices))
            if index > 0:
                continue
            if scenario.midstream_error:
                await send(call.error_event())
                if scenario.done_after_error:
                    await responder.write(b"data: [DONE]" + end)
                await responder.end()
                return
            if scenario.drop:
                return  # no terminating chunk: the connection is cut mid-body
            if scenario.candidate_blocked:
                break
            await self.pace(scenario.stall)
            if keepalive:
                await responder.write(_KEEPALIVE)  # keep-alives come between events too
        if scenario.finish:
            await send(call.chunk(call.finishes()))
            if call.streams_usage:
                await send(call.usage_chunk())
            await responder.write(b"data: [DONE]" + end)
        await responder.end()


def _key_info(request: HTTPRequest) -> dict[str, Any]:
    key = request.headers.get("authorization", "").removeprefix("Bearer ")
    return {
        "label": f"{key[:9]}...{key[-3:]}" if len(key) > 12 else "simulated",
        "limit": None,
        "limit_remaining": None,
        "limit_reset": None,
        "usage": 0.0,
        "usage_daily": 0.0,
        "usage_weekly": 0.0,
        "usage_monthly": 0.0,
        "is_free_tier": False,
        "is_provisioning_key": False,
    }


def _listing(model: SimModel) -> dict[str, Any]:
    modality = "text+image->text" if model.images else "text->text"
    context = model.context_length or None  # the router has none: `null`, as OpenRouter lists it
    return {
        "id": model.id,
        "canonical_slug": model.id,
        "name": model.name,
        "created": 1735689600,
        "description": f"{model.name}, served by the AI Hub simulator.",
        "context_length": context,
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
            "context_length": context,
            "max_completion_tokens": model.max_output_tokens or None,
            "is_moderated": False,
        },
        "per_request_limits": None,
        "supported_parameters": ["max_tokens", "temperature", "top_p", "stop"],
    }
