"""Gemini request and response bodies: validation as Google does it, and the chunks of an answer."""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Iterator
from typing import Any

from aihub_core.simulators.models import SimModel
from aihub_core.simulators.scenarios import Scenario
from aihub_core.simulators.text import TOOL_ARGS, TOOL_NAME, TOOL_TOKENS, SimulatedAnswer

IMAGE_TOKENS = 258  # Gemini's fixed charge for an image up to 384 px
_SNAKE = re.compile(r"_([a-z])")


class AnswerChunks:
    """The stream of one answer: cumulative usage on each chunk, finishReason on the last."""

    def __init__(
        self,
        model: str,
        scenario: Scenario,
        answer: SimulatedAnswer,
        text_tokens: int,
        images: int,
        other: SimulatedAnswer | None = None,
    ) -> None:
        self.model, self.scenario, self.answer = model, scenario, answer
        self.text_tokens, self.images = text_tokens, images
        self.other = other  # a second candidate (`n-2`), listed before the first on purpose
        self.response_id = uuid.uuid4().hex[:22]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        scenario = self.scenario
        if scenario.blocked:
            feedback = {
                "blockReason": "SAFETY",
                "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}],
            }
            yield {"promptFeedback": feedback, **self._envelope(0)}
            return
        if scenario.thoughts:
            yield self._chunk([{"text": "**Weighing the question**", "thought": True}], 0, None)
        if scenario.tool_call:
            # Whole in one part with object args; the finish is STOP, never a tool-call reason (§3.4).
            call = {"functionCall": {"name": TOOL_NAME, "args": TOOL_ARGS}}
            yield self._chunk([call], TOOL_TOKENS, "STOP" if scenario.finish else None)
            return
        pieces = self.answer.pieces(scenario.piece_tokens) or [("", 0)]
        if scenario.candidate_blocked:
            yield self._chunk([{"text": pieces[0][0]}], pieces[0][1], None)
            yield self._blocked(pieces[0][1])
            return
        final = ("MAX_TOKENS" if self.answer.truncated else "STOP") if scenario.finish else None
        for index, (piece, sent) in enumerate(pieces):
            last = index == len(pieces) - 1 and not scenario.empty_final
            yield self._chunk([{"text": piece}] if piece else [], sent, final if last else None)
        if scenario.empty_final:
            yield self._chunk([{"text": ""}], pieces[-1][1], final)

    def whole(self) -> dict[str, Any]:
        """The non-streaming response: one chunk with everything."""
        *_, last = iter(self)
        candidates = last.get("candidates", [])
        if candidates and "content" in candidates[-1] and not self.scenario.tool_call:
            text = (
                self.answer.pieces(self.scenario.piece_tokens)[0][0]
                if self.scenario.candidate_blocked
                else ""
            )
            parts = [{"text": text or self.answer.text}] if (text or self.answer.text) else []
            candidates[-1]["content"]["parts"] = parts
        return last

    def _blocked(self, sent: int) -> dict[str, Any]:
        """A candidate stopped by the safety filter: no content, the offending rating `blocked` (§3.7)."""
        ratings = [
            {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "HIGH", "blocked": True},
            {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
        ]
        candidate = {"finishReason": "SAFETY", "index": 0, "safetyRatings": ratings}
        return {"candidates": [candidate], **self._envelope(sent)}

    def _chunk(self, parts: list[dict[str, Any]], sent: int, finish: str | None) -> dict[str, Any]:
        content: dict[str, Any] = {"role": "model", **({"parts": parts} if parts else {})}
        candidate: dict[str, Any] = {"content": content, "index": 0}
        if finish:
            candidate["finishReason"] = finish
            if self.scenario.tool_call:
                candidate["finishMessage"] = "Model generated function call(s)."
        candidates = [candidate]
        if self.other is not None:
            other = {"content": {"role": "model", "parts": [{"text": "[second candidate] "}]}, "index": 1}
            candidates.insert(0, other)
        return {"candidates": candidates, **self._envelope(sent)}

    def _envelope(self, sent: int) -> dict[str, Any]:
        image_tokens = self.images * IMAGE_TOKENS
        prompt = self.text_tokens + image_tokens
        envelope: dict[str, Any] = {"modelVersion": self.model, "responseId": self.response_id}
        if self.scenario.usage:
            details = [{"modality": "TEXT", "tokenCount": self.text_tokens}]
            if image_tokens:
                details.append({"modality": "IMAGE", "tokenCount": image_tokens})
            thoughts = 0 if self.scenario.blocked else self.answer.thoughts
            usage: dict[str, Any] = {
                "promptTokenCount": prompt,
                "candidatesTokenCount": sent,
                "totalTokenCount": prompt + sent + thoughts,
                "promptTokensDetails": details,
            }
            if thoughts:
                usage["thoughtsTokenCount"] = thoughts
            envelope["usageMetadata"] = usage
        return envelope


def read_request(body: Any) -> tuple[list[str], int, int | None]:
    """Texts, image count and maxOutputTokens of a generateContent body, validated as Google does."""
    if not isinstance(body, dict) or not isinstance(body.get("contents"), list) or not body["contents"]:
        raise ValueError("* GenerateContentRequest.contents: contents is not specified")
    texts: list[str] = []
    images = 0
    system = body.get("systemInstruction")
    contents = [*([system] if isinstance(system, dict) else []), *body["contents"]]
    for index, content in enumerate(contents):
        if (
            not isinstance(content, dict)
            or not isinstance(content.get("parts"), list)
            or not content["parts"]
        ):
            raise ValueError("* GenerateContentRequest.contents.parts: contents.parts must not be empty.")
        if content is not system and content.get("role", "user") not in ("user", "model"):
            raise ValueError("Please use a valid role: user, model.")
        for part in content["parts"]:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif isinstance(part, dict) and isinstance(part.get("inlineData"), dict):
                _check_inline(part["inlineData"])
                images += 1
            else:
                raise ValueError(f"* GenerateContentRequest.contents[{index}].parts: unsupported part")
    config = body.get("generationConfig") or {}
    max_tokens = config.get("maxOutputTokens") if isinstance(config, dict) else None
    if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
        raise ValueError("* GenerateContentRequest.generation_config.max_output_tokens: must be positive")
    return texts, images, max_tokens


def _check_inline(blob: dict[str, Any]) -> None:
    if not str(blob.get("mimeType", "")).startswith("image/"):
        raise ValueError(
            "* GenerateContentRequest.contents.parts.inline_data.mime_type: unsupported MIME type"
        )
    try:
        base64.b64decode(str(blob.get("data", "")), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(
            "Invalid value at 'contents.parts.inline_data.data' (TYPE_BYTES), Base64 decoding failed"
        ) from None


def camel(value: Any) -> Any:
    """snake_case keys to lowerCamelCase, recursively: Google's JSON parser accepts both."""
    if isinstance(value, dict):
        return {_SNAKE.sub(lambda m: m[1].upper(), k): camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


def listing(model: SimModel) -> dict[str, Any]:
    methods = ["generateContent", "countTokens"] if model.chat else ["embedContent"]
    return {
        "name": f"models/{model.id}",
        "version": "001",
        "displayName": model.name,
        "description": f"{model.name}, served by the AI Hub simulator.",
        "inputTokenLimit": model.context_length,
        "outputTokenLimit": model.max_output_tokens,
        "supportedGenerationMethods": methods,
        **(
            {"temperature": 1, "topP": 0.95, "topK": 64, "maxTemperature": 2, "thinking": model.thinks}
            if model.chat
            else {}
        ),
    }
