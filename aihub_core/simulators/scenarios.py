"""Named misbehaviours a simulator can put on for one request, as data.

A request picks one by the `x-aihub-sim-scenario` header, else by a model-name suffix
(`x-ai/grok-beta@error-500`, the only way through the gateway, which forwards no user header),
else the simulator's own `scenario` attribute applies. Each simulator reads the fields and
speaks them in its provider's dialect; adding a scenario is adding a row below. One family is
parameterised instead: `split-at-7,120` cuts the streamed body at those absolute byte offsets.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

SCENARIO_HEADER = "x-aihub-sim-scenario"

# The OpenAI-compatible server the OpenRouter simulator imitates (upstream-protocols §1.9).
Dialect = Literal["openrouter", "openai", "vllm", "vllm-legacy", "ollama", "llamacpp"]
# How an in-band error looks: OpenRouter's chunk with `finish_reason: "error"`, the same with
# `choices: []`, a bare `{"error": ...}` event (OpenAI, vLLM), or Gemini's raw JSON without `data:`.
ErrorShape = Literal["chunk", "no-choices", "bare", "raw"]
_SPLIT = re.compile(r"^split-at-(\d+(?:,\d+)*)$")


@dataclass(frozen=True)
class Scenario:
    """How to answer: every field at its default is a healthy answer."""

    name: str
    summary: str
    dialect: Dialect = "openrouter"  # Gemini has one dialect and ignores this
    status: int | None = None  # fail before the first byte with this HTTP status, in the provider's shape
    error_kind: str = ""  # which error of that status: insufficient_quota, stream_options
    first_byte_delay: float = 0.0  # seconds of silence before the response starts
    held: bool = False  # then silence until the simulator's `release()` (tests hold calls in flight)
    stall: float = 0.0  # seconds of silence after the first piece of text
    midstream_error: bool = False  # fail in-band after the first piece (non-stream: a 200 error / a 500)
    error_shape: ErrorShape = "chunk"
    error_code_text: bool = False  # the in-band error's `code` is a string, not the int status
    done_after_error: bool = False  # `data: [DONE]` still follows the in-band error (vLLM)
    drop: bool = False  # the connection is cut after the first piece: no terminator, no [DONE]
    unicode: bool = False  # raw CJK, emoji and U+2028 in the text; writes split inside characters and CRLF
    fragment_offsets: tuple[int, ...] = ()  # also cut the streamed body at these absolute byte offsets
    crlf: bool | None = None  # force CRLF (True) or LF (False) event framing; None: the provider's own
    usage: bool = True  # report token usage
    finish: bool = True  # end with a finish reason; without one a stream just stops
    blocked: bool = False  # the prompt is refused by a safety filter
    candidate_blocked: bool = False  # the answer is stopped by a safety filter after its first piece
    thoughts: bool = False  # thought parts (Gemini) / reasoning deltas (OpenRouter) before the text
    exhausted: bool = False  # thinking spends the whole output budget: no text, finish `length`
    tool_call: bool = False  # the answer is a single tool call and no text
    choices: int = 1  # n > 1: the choices' chunks interleave, each with its own finish
    piece_tokens: int = 6  # tokens per stream chunk (a big number: the whole answer in one chunk)
    empty_final: bool = False  # the finish reason comes in an extra chunk with an empty text
    json_array: bool = False  # Gemini: a pretty-printed JSON array, as without `alt=sse`


HEALTHY = Scenario("healthy", "a normal answer")


def _error(status: int, summary: str, **fields: object) -> Scenario:
    return Scenario(f"error-{status}", summary, status=status, **fields)  # type: ignore[arg-type]


SCENARIOS: Mapping[str, Scenario] = MappingProxyType(
    {
        scenario.name: scenario
        for scenario in (
            HEALTHY,
            _error(400, "400 before the first byte: the prompt is too long for the model"),
            _error(401, "the provider refuses the key (Gemini: 400 API_KEY_INVALID)"),
            _error(402, "402 insufficient credits"),
            _error(403, "403 moderation or permission refusal"),
            _error(408, "408 the provider timed out"),
            _error(413, "413 payload too large"),
            _error(429, "429 rate limit with the provider's retry hint"),
            _error(500, "500 internal error before the first byte"),
            _error(502, "502 the chosen model is down"),
            _error(503, "503 provider overloaded before the first byte"),
            _error(524, "524 edge timeout"),
            _error(529, "529 provider overloaded"),
            Scenario(
                "error-429-retry-ms",
                "OpenAI's 429 with `retry-after: 1` and `retry-after-ms: 250`",
                dialect="openai",
                status=429,
            ),
            Scenario(
                "insufficient-quota",
                "429 that is not retryable: insufficient_quota (Gemini: a per-day quota)",
                dialect="openai",
                status=429,
                error_kind="insufficient_quota",
            ),
            Scenario(
                "error-400-stream-options",
                "OpenAI's 400 for `stream_options` without `stream`",
                dialect="openai",
                status=400,
                error_kind="stream_options",
            ),
            Scenario(
                "midstream-error", "an in-band error after the first piece of text", midstream_error=True
            ),
            Scenario(
                "midstream-error-text-code",
                "the in-band error chunk has a string code",
                midstream_error=True,
                error_code_text=True,
            ),
            Scenario(
                "midstream-error-no-choices",
                "the in-band error chunk has `choices: []`",
                midstream_error=True,
                error_shape="no-choices",
            ),
            Scenario(
                "midstream-error-done",
                "the in-band error is followed by `data: [DONE]`",
                midstream_error=True,
                done_after_error=True,
            ),
            Scenario(
                "midstream-error-raw",
                'Gemini: a pretty-printed `{"error": ...}` without `data:` (others: a bare error event)',
                midstream_error=True,
                error_shape="raw",
            ),
            Scenario("drop", "the connection is cut after the first piece, before any finish", drop=True),
            Scenario("unicode", "CJK, emoji and U+2028 sent raw, writes split inside them", unicode=True),
            Scenario("crlf", "events framed with CRLF (`\\r\\n\\r\\n`)", crlf=True),
            Scenario("lf", "events framed with LF (`\\n\\n`)", crlf=False),
            Scenario("slow-first-byte", "2 s of silence before the response starts", first_byte_delay=2.0),
            Scenario("held", "silence before the response starts until the simulator is released", held=True),
            Scenario("stall", "silence after the first piece, until the client gives up", stall=3600.0),
            Scenario("no-usage", "no usage reported (the client has to estimate)", usage=False),
            Scenario("no-finish", "the stream stops without a finish reason", finish=False),
            Scenario("blocked", "the prompt is blocked by a safety filter", blocked=True),
            Scenario(
                "safety-candidate",
                "the answer is blocked after its first piece (Gemini: SAFETY, no content)",
                candidate_blocked=True,
            ),
            Scenario("thoughts", "thinking output before the answer, to be left out of it", thoughts=True),
            Scenario(
                "max-tokens-empty",
                "thinking used the whole budget: no text, finish length (Gemini: MAX_TOKENS, no parts)",
                thoughts=True,
                exhausted=True,
            ),
            Scenario("tool-call", "the answer is one tool call and no text", tool_call=True),
            Scenario("n-2", "two choices whose chunks interleave", choices=2),
            Scenario("single-chunk", "the whole answer and its finish in one chunk", piece_tokens=1_000_000),
            Scenario(
                "empty-final", "the finish reason comes in a last chunk with empty text", empty_final=True
            ),
            Scenario(
                "json-array", "Gemini: the stream as a JSON array, as when `alt` is missing", json_array=True
            ),
            Scenario(
                "openai", "OpenAI's own dialect: chatcmpl ids, `usage: null`, obfuscation", dialect="openai"
            ),
            Scenario(
                "vllm", "vLLM: nulls omitted, `delta.reasoning`, chatcmpl ids", dialect="vllm", thoughts=True
            ),
            Scenario(
                "vllm-midstream-error",
                'vLLM: `data: {"error": {... int code}}` then `data: [DONE]`',
                dialect="vllm",
                midstream_error=True,
                error_shape="bare",
                done_after_error=True,
            ),
            Scenario(
                "vllm-legacy-error",
                'older vLLM: a 400 as a top-level `{"object": "error", ...}`',
                dialect="vllm-legacy",
                status=400,
            ),
            Scenario(
                "openai-midstream-error",
                'OpenAI: a bare `data: {"error": {...}}` and the stream just ends',
                dialect="openai",
                midstream_error=True,
                error_shape="bare",
                error_code_text=True,
            ),
            Scenario("ollama", "Ollama: role in every delta, `fp_ollama`, ids 0-998", dialect="ollama"),
            Scenario("llamacpp", "llama.cpp: a usage chunk with `timings`, asked or not", dialect="llamacpp"),
        )
    }
)


class UnknownScenarioError(LookupError):
    """A request asked for a scenario that is not in the table."""


def split_model(model: str) -> tuple[str, str | None]:
    """`id@scenario` -> (id, scenario); a plain id -> (id, None)."""
    base, at, name = model.rpartition("@")
    return (base, name) if at and base else (model, None)


def lookup(name: str) -> Scenario:
    """A row of the table, or a `split-at-N[,M...]` scenario made for the asking."""
    if name in SCENARIOS:
        return SCENARIOS[name]
    split = _SPLIT.match(name)
    if split:
        offsets = tuple(sorted({int(offset) for offset in split[1].split(",")}))
        return dataclasses.replace(
            HEALTHY,
            name=name,
            summary="the streamed body cut at chosen byte offsets",
            fragment_offsets=offsets,
        )
    raise UnknownScenarioError(
        f"unknown simulator scenario {name!r}; known: {', '.join(SCENARIOS)}, split-at-N[,M...]"
    )


def choose(header: str | None, suffix: str | None, default: str | None) -> Scenario:
    """The scenario for one request: header, then model suffix, then the simulator's default."""
    name = header or suffix or default
    return lookup(name) if name else HEALTHY
