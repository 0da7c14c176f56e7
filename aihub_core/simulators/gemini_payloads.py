"""Gemini response bodies: the chunks of an answer (text or function calls), and model listings.
Requests are read in `gemini_requests`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from aihub_core.simulators.models import SimModel
from aihub_core.simulators.scenarios import Scenario
from aihub_core.simulators.text import SimulatedAnswer
from aihub_core.simulators.tools import SimCall

IMAGE_TOKENS = 258  # Gemini's fixed charge for an image up to 384 px


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
        calls: tuple[SimCall, ...] = (),
    ) -> None:
        self.model, self.scenario, self.answer = model, scenario, answer
        self.text_tokens, self.images = text_tokens, images
        self.other = other  # a second candidate (`n-2`), listed before the first on purpose
        self.calls = calls
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
        if self.calls:
            # Each call whole in a part of its own, with object args, one chunk each; the finish is
            # STOP, never a tool-call reason (§3.4).
            sent = 0
            for index, call in enumerate(self.calls):
                sent += call.tokens
                last = index == len(self.calls) - 1
                yield self._chunk([_function_call(call)], sent, "STOP" if last and scenario.finish else None)
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
        if candidates and self.calls:
            candidates[-1]["content"]["parts"] = [_function_call(call) for call in self.calls]
        elif candidates and "content" in candidates[-1]:
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
            if self.calls:
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


def _function_call(call: SimCall) -> dict[str, Any]:
    return {"functionCall": {"name": call.name, "args": dict(call.arguments)}}


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
