"""The simulated model: a deterministic, readable answer counted in tokens.

One token is one word with its leading space, so `max_tokens` cuts exactly where it should.
The same request always gets the same answer (the seed is the request's content).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable
from dataclasses import dataclass

from aihub_core.limits.tokens import MESSAGE_OVERHEAD, estimate_text

_VOCABULARY = (
    "the answer depends on how the system is used and what the data looks like in practice "
    "a careful design keeps each part small clear and easy to test so that changes stay cheap "
    "latency matters more than throughput for people while batch jobs care about cost per token "
    "good defaults help new users and explicit settings help operators who run many replicas "
    "streaming lets a reader start early and a gateway must pass every piece on without delay"
)
_WORDS = tuple(_VOCABULARY.split())
_UNICODE = (" 你好", "，世界", " 🙂", " 🚀", " naïve", " café", "\u2028", " 模拟", "回答", " ✓")


@dataclass(frozen=True)
class SimulatedAnswer:
    """The answer's tokens, whether `max_tokens` cut it, and the thinking tokens spent first."""

    tokens: tuple[str, ...]
    truncated: bool
    thoughts: int = 0

    @property
    def text(self) -> str:
        """The whole answer."""
        return "".join(self.tokens)

    def pieces(self, per_piece: int = 6) -> list[tuple[str, int]]:
        """The answer cut into stream chunks of a few tokens: (text, tokens sent so far)."""
        ends = range(per_piece, len(self.tokens) + per_piece, per_piece)
        return [("".join(self.tokens[end - per_piece : end]), min(end, len(self.tokens))) for end in ends]


def simulate_answer(
    seed: str, model: str, max_tokens: int | None, *, unicode: bool = False, thinking: bool = False
) -> SimulatedAnswer:
    """The answer to a request: 40-80 tokens, minus thinking, cut to `max_tokens`."""
    rng = random.Random(hashlib.sha256(seed.encode("utf-8")).digest())
    length = rng.randint(40, 80)
    tokens = ["This", " is", " a", " simulated", " answer", " from", f" {model}", "."]
    if unicode:
        tokens.extend(_UNICODE)  # every special character early on, whatever the seed
    while len(tokens) < length:
        sentence = [rng.choice(_WORDS) for _ in range(rng.randint(5, 12))]
        if unicode:
            sentence.insert(rng.randrange(len(sentence)), rng.choice(_UNICODE).strip(" "))
        sentence[0] = sentence[0].capitalize()
        tokens.extend(f" {word}" for word in sentence)
        tokens[-1] += "."
    del tokens[length:]
    # Thinking spends the output budget first, as Gemini's thoughtsTokenCount does.
    thoughts = rng.randint(8, 24) if thinking else 0
    if max_tokens is not None:
        thoughts = min(thoughts, max_tokens // 2)
        budget = max_tokens - thoughts
        if budget < len(tokens):
            return SimulatedAnswer(tuple(tokens[:budget]), True, thoughts)
    return SimulatedAnswer(tuple(tokens), False, thoughts)


def prompt_tokens(texts: Iterable[str], images: int, image_tokens: int) -> int:
    """The prompt's size as the simulated tokenizer sees it: grows with every byte and image."""
    return sum(estimate_text(text) + MESSAGE_OVERHEAD for text in texts) + images * image_tokens


# The one tool call a `tool-call` scenario answers with, and what it costs in completion tokens.
TOOL_NAME = "get_weather"
TOOL_ARGS = {"city": "Oslo", "unit": "celsius"}
TOOL_TOKENS = 9


def exhausted(answer: SimulatedAnswer, max_tokens: int | None) -> SimulatedAnswer:
    """The same request when thinking spent the whole output budget: no text at all."""
    return SimulatedAnswer((), True, max_tokens or max(answer.thoughts, 16))
