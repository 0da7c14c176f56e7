"""Token estimates for when a provider reports none, for trimming history to fit, and for admission.

About four characters of English per token is the usual rule of thumb for BPE tokenizers;
every message adds a few tokens of framing, and an image a fixed amount (Gemini counts 258).
Tool calls, tool schemas and response schemas are counted as the JSON text they travel as.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

from aihub_core.messages import JsonSchemaFormat, Message, ProviderRequest

MESSAGE_OVERHEAD = 4
IMAGE_TOKENS = 258
# Per tool call and per tool declaration: the framing around its name and arguments.
TOOL_OVERHEAD = 8


def estimate_text(text: str) -> int:
    """Tokens of a piece of text: ASCII at four characters a token; every other character (CJK,
    emoji, accents) counted as a token of its own, which real tokenizers come close to and
    rarely exceed, so a trimmed prompt stays inside the window."""
    ascii_chars = len(text.encode("ascii", "ignore"))
    return math.ceil(ascii_chars / 4) + len(text) - ascii_chars


def estimate_delivered(text: str, max_tokens: int | None) -> int:
    """Completion tokens of an answer cut off after `text` was delivered, counted low so that a
    cut-off stream never costs more than its complete answer would have: a word (a run of
    non-space characters) is at least one token to every tokenizer, a non-ASCII character often
    one; the lower of that and `estimate_text`, and never more than the call's `max_tokens`."""
    words = sum(max(1, len(word) - len(word.encode("ascii", "ignore"))) for word in text.split())
    tokens = min(words, estimate_text(text))
    return tokens if max_tokens is None else min(tokens, max_tokens)


def estimate_message(message: Message) -> int:
    """Tokens of one message: framing, text, images, tool calls and the id a tool result answers."""
    tokens = MESSAGE_OVERHEAD + IMAGE_TOKENS * len(message.images)
    tokens += sum(estimate_text(part) for part in message.parts if isinstance(part, str))
    for call in message.tool_calls:
        tokens += (
            TOOL_OVERHEAD + estimate_text(call.id) + estimate_text(call.name) + estimate_text(call.arguments)
        )
    if message.tool_call_id:
        tokens += estimate_text(message.tool_call_id)
    return tokens


def estimate_messages(messages: Iterable[Message]) -> int:
    """Tokens of a whole conversation."""
    return sum(estimate_message(m) for m in messages)


def estimate_schema(schema: object) -> int:
    """Tokens of a JSON schema as it travels upstream."""
    return estimate_text(json.dumps(schema, separators=(",", ":"), ensure_ascii=False)) if schema else 0


def estimate_prompt(request: ProviderRequest) -> int:
    """Tokens of a whole prompt: the messages, every tool declaration and the response schema."""
    tokens = estimate_messages(request.messages)
    for tool in request.tools:
        tokens += TOOL_OVERHEAD + estimate_text(tool.name) + estimate_text(tool.description)
        tokens += estimate_schema(tool.parameters)
    if isinstance(request.response_format, JsonSchemaFormat):
        tokens += estimate_schema(request.response_format.schema)
    return tokens
