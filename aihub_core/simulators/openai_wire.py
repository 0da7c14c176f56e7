"""The Chat Completions bodies of one answer, in each OpenAI-compatible dialect (upstream-protocols §1.9).

OpenRouter: `gen-` ids, `provider`, role in every delta, usage with `cost` on every stream.
OpenAI: `chatcmpl-` ids, `"usage": null` on each chunk, `obfuscation`, usage only when asked.
vLLM: nulls omitted, `delta.reasoning`. Ollama: role in every delta, `fp_ollama`, ids 0-998.
llama.cpp: a usage chunk with `timings` whether asked or not.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aihub_core.simulators.models import SimModel
from aihub_core.simulators.scenarios import Scenario
from aihub_core.simulators.text import SimulatedAnswer
from aihub_core.simulators.tools import SimCall

REASONING = "Considering the question step by step. "
_FINGERPRINT = {"openai": "fp_0a1b2c3d4e", "ollama": "fp_ollama", "llamacpp": "b6497-cd08fc3e"}
_ROLE_EVERY_DELTA = ("openrouter", "ollama")


def _drop_nulls(value: Any) -> Any:
    """vLLM serialises with `exclude_none`: absent, not null."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def _id(dialect: str) -> str:
    if dialect == "openrouter":
        return f"gen-{int(time.time())}-{uuid.uuid4().hex[:20]}"
    if dialect == "ollama":
        return f"chatcmpl-{uuid.uuid4().int % 999}"  # Ollama's ids are not unique either
    return f"chatcmpl-{uuid.uuid4().hex}"


@dataclass(frozen=True)
class ChatCall:
    """One accepted chat request and its answer(s): the second only under `n-2`; or its tool calls."""

    model: SimModel
    scenario: Scenario
    answer: SimulatedAnswer
    prompt_tokens: int
    include_usage: bool  # the request asked for usage in the stream
    others: tuple[SimulatedAnswer, ...] = ()
    calls: tuple[SimCall, ...] = ()
    id: str = field(default="")

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", self.id or _id(self.scenario.dialect))

    @property
    def dialect(self) -> str:
        return self.scenario.dialect

    @property
    def finish(self) -> str:
        if self.scenario.blocked or self.scenario.candidate_blocked:
            return "content_filter"
        if self.calls:
            return "tool_calls"
        return "length" if self.answer.truncated else "stop"

    @property
    def streams_usage(self) -> bool:
        """OpenRouter and llama.cpp always send it; vLLM when `stream_options` is there; others when asked."""
        return self.scenario.usage and (self.dialect in ("openrouter", "llamacpp") or self.include_usage)

    def usage(self) -> dict[str, Any]:
        answers = (self.answer, *self.others)
        completion = sum(len(a.tokens) + a.thoughts for a in answers)  # reasoning is part of completion
        completion += sum(call.tokens for call in self.calls)
        usage: dict[str, Any] = {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": self.prompt_tokens + completion,
        }
        if self.dialect == "openrouter":
            cost = self.prompt_tokens * float(self.model.prompt_price) + completion * float(
                self.model.completion_price
            )
            usage |= {"cost": cost, "is_byok": False, "prompt_tokens_details": {"cached_tokens": 0}}
        if self.dialect not in ("ollama", "llamacpp"):
            reasoning = sum(a.thoughts for a in answers)
            usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
        return usage

    def envelope(self, obj: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "object": obj,
            "created": int(time.time()),
            "model": self.model.id,
        }
        if self.dialect == "openrouter":
            body["provider"] = "Simulated"
        if self.dialect in _FINGERPRINT:
            body["system_fingerprint"] = _FINGERPRINT[self.dialect]
        if self.dialect == "openai":
            body["service_tier"] = "default"
        return body

    def encode(self, body: dict[str, Any], end: bytes) -> bytes:
        """One `data:` event, with raw UTF-8 (U+2028 included) as upstreams send it."""
        body = _drop_nulls(body) if self.dialect.startswith("vllm") else body
        return b"data: " + json.dumps(body, ensure_ascii=False).encode() + end

    def chunk(self, choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        body = {**self.envelope("chat.completion.chunk"), "choices": choices, **extra}
        if self.dialect == "openai":
            body.setdefault("usage", None)
            body["obfuscation"] = "k2Jd"  # random padding on the real wire; fixed here so offsets are stable
        return body

    def delta(
        self, first: bool = False, index: int = 0, finish: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """One choice of a chunk; the role rides on the first delta, or on all of them in some dialects."""
        delta: dict[str, Any] = {}
        if first or self.dialect in _ROLE_EVERY_DELTA:
            delta["role"] = "assistant"
        if first and self.dialect == "openai":
            delta["refusal"] = None
        delta |= fields
        choice: dict[str, Any] = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
        if self.dialect == "openrouter":
            choice["native_finish_reason"] = finish
        return choice

    def pieces(self) -> list[list[dict[str, Any]]]:
        """The content chunks' choices: with two choices, index 1's chunk comes first, interleaved."""
        per = self.scenario.piece_tokens
        own = self.answer.pieces(per) or [("", 0)]
        rows: list[list[dict[str, Any]]] = []
        others = [other.pieces(per) for other in self.others]
        for n, (piece, _) in enumerate(own):
            row = [self.delta(index=i + 1, content=o[n][0]) for i, o in enumerate(others) if n < len(o)]
            rows.append([*row, self.delta(content=piece)])
        return rows

    def tool_call_chunks(self) -> list[list[dict[str, Any]]]:
        """Each call's chunks: `id`, `type` and `name` only in its first, then its arguments as
        three string fragments (§1.4); parallel calls one after the other, by `index`."""
        rows: list[list[dict[str, Any]]] = []
        for index, call in enumerate(self.calls):
            head = {**self._call(index, call), "function": {"name": call.name, "arguments": ""}}
            rows.append([self.delta(first=not index, content=None, tool_calls=[head])])
            arguments = call.text
            cuts = [0, len(arguments) // 3, 2 * len(arguments) // 3, len(arguments)]
            rows.extend(
                [self.delta(tool_calls=[{"index": index, "function": {"arguments": arguments[a:b]}}])]
                for a, b in itertools.pairwise(cuts)
            )
        return rows

    def _call(self, index: int, call: SimCall) -> dict[str, Any]:
        # A stable id per answer and call, as the same call shows in a stream and a whole body.
        return {"index": index, "id": f"call_{self.id[-8:]}{index}", "type": "function"}

    def finishes(self) -> list[dict[str, Any]]:
        """The finish chunk's choices: each choice gets its own finish (empty content in some dialects)."""
        content: dict[str, Any] = {"content": ""} if self.dialect in _ROLE_EVERY_DELTA else {}
        others = [self.delta(index=i + 1, finish="stop", **content) for i in range(len(self.others))]
        return [*others, self.delta(finish=self.finish, **content)]

    def usage_chunk(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"usage": self.usage()}
        if self.dialect == "llamacpp":
            extra["timings"] = {"prompt_n": self.prompt_tokens, "prompt_ms": 12.5, "predicted_ms": 230.1}
        return self.chunk([], **extra)

    def error(self) -> dict[str, Any]:
        """The in-band error object, in this dialect."""
        scenario = self.scenario
        if self.dialect == "openai":
            code: object = "server_error" if scenario.error_code_text else None
            return {
                "message": "The server had an error while processing your request.",
                "type": "server_error",
                "param": None,
                "code": code,
            }
        code = "server_error" if scenario.error_code_text else 502
        error: dict[str, Any] = {"code": code, "message": "Upstream connection reset"}
        if self.dialect == "openrouter":
            error["metadata"] = {"error_type": "provider_unavailable"}
        else:
            error |= {"type": "InternalServerError", "param": None}
        return error

    def error_event(self) -> dict[str, Any]:
        """The whole in-band error event: OpenRouter's chunk, with or without choices, or bare."""
        shape = self.scenario.error_shape
        if shape in ("bare", "raw"):
            return {"error": self.error()}
        choices = [self.delta(finish="error", content="")] if shape == "chunk" else []
        return self.chunk(choices, error=self.error())

    def whole(self) -> dict[str, Any]:
        """The non-streaming body."""
        scenario = self.scenario
        if scenario.midstream_error and scenario.error_shape in ("bare", "raw"):
            return {"error": self.error()}
        text = self.answer.pieces(10**9)[0][0] if self.answer.tokens else ""
        if scenario.candidate_blocked:
            text = self.answer.pieces(scenario.piece_tokens)[0][0]
        message: dict[str, Any] = {"role": "assistant", "content": None if self.calls else text}
        if self.calls:
            message["tool_calls"] = [
                {
                    **{k: v for k, v in self._call(index, call).items() if k != "index"},
                    "function": {"name": call.name, "arguments": call.text},
                }
                for index, call in enumerate(self.calls)
            ]
        if scenario.thoughts:
            message["reasoning"] = REASONING * 3
        finish = self.finish if scenario.finish else None
        choices = [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}]
        choices = [
            *(
                {"index": i + 1, "message": {"role": "assistant", "content": o.text}, "finish_reason": "stop"}
                for i, o in enumerate(self.others)
            ),
            *choices,
        ]
        body = {**self.envelope("chat.completion"), "choices": choices}
        if scenario.midstream_error:  # OpenRouter: once generation started, errors come inside a 200
            body["error"] = self.error()
            choices[-1]["finish_reason"] = "error"
            if scenario.error_shape == "no-choices":
                body["choices"] = []
        if scenario.usage:
            body["usage"] = self.usage()
        return _drop_nulls(body) if self.dialect.startswith("vllm") else body
