"""Token estimates for when a provider reports none, and for trimming history to fit.

About four characters of English per token is the usual rule of thumb for BPE tokenizers;
every message adds a few tokens of framing, and an image a fixed amount (Gemini counts 258).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from aihub_core.messages import Message

MESSAGE_OVERHEAD = 4
IMAGE_TOKENS = 258


def estimate_text(text: str) -> int:
    """Tokens of a piece of text: ASCII at four characters a token; every other character (CJK,
    emoji, accents) counted as a token of its own, which real tokenizers come close to and
    rarely exceed, so a trimmed prompt stays inside the window."""
    ascii_chars = len(text.encode("ascii", "ignore"))
    return math.ceil(ascii_chars / 4) + len(text) - ascii_chars


def estimate_message(message: Message) -> int:
    """Tokens of one message, framing and images included."""
    return estimate_text(message.content) + MESSAGE_OVERHEAD + IMAGE_TOKENS * len(message.images)


def estimate_messages(messages: Iterable[Message]) -> int:
    """Tokens of a whole prompt."""
    return sum(estimate_message(m) for m in messages)
