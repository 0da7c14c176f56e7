"""Input limits: how large a call's input may be (characters of its text, a session's history
included, and bytes of its images), from the caller's plan or else the operator's default.

Checked after the call is prepared (its history loaded, its conversation built) and before it is
admitted, so a call beyond the limit is refused with nothing counted or charged. Pure functions
over plain data; `chat.calls` applies them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aihub_core.errors import InvalidRequestError
from aihub_core.limits.plans import Plan
from aihub_core.messages import Image, Message


@dataclass(frozen=True)
class InputLimits:
    """The most characters and image bytes a call may send; 0 means no limit."""

    max_chars: int = 0
    max_image_bytes: int = 0


@dataclass(frozen=True)
class InputSize:
    """A call's input: characters of every text it sends, bytes of every inline image."""

    chars: int = 0
    image_bytes: int = 0


def effective_limits(plan: Plan, default: InputLimits) -> InputLimits:
    """The plan's own limits where it sets them (0 included: none), the operator's default where not."""
    return InputLimits(
        default.max_chars if plan.max_input_chars is None else plan.max_input_chars,
        default.max_image_bytes if plan.max_input_image_bytes is None else plan.max_input_image_bytes,
    )


def image_bytes(image: Image) -> int:
    """The decoded size of an inline image's base64, without decoding it."""
    data = image.data_b64
    return len(data) * 3 // 4 - data[-2:].count("=") if data else 0


def measure_messages(messages: Iterable[Message]) -> InputSize:
    """The input of a conversation as sent: every message's text (system prompt, history, the new
    turn, tool calls' arguments) and its inline images (an image URL sends no bytes of ours)."""
    chars = 0
    images = 0
    for message in messages:
        for part in message.parts:
            if isinstance(part, str):
                chars += len(part)
            elif isinstance(part, Image):
                images += image_bytes(part)
        chars += sum(len(call.arguments) for call in message.tool_calls)
    return InputSize(chars, images)


def measure_texts(texts: Iterable[str]) -> InputSize:
    """The input of an embedding call: its texts."""
    return InputSize(chars=sum(len(text) for text in texts))


def check_input_size(size: InputSize, limits: InputLimits, plan: str, param: str) -> None:
    """The 400 `input_too_long` for an input beyond its limits, naming the limit broken."""
    for limit, actual, maximum, unit in (
        ("max_input_chars", size.chars, limits.max_chars, "characters"),
        ("max_input_image_bytes", size.image_bytes, limits.max_image_bytes, "bytes of images"),
    ):
        if maximum and actual > maximum:
            raise InvalidRequestError(
                f"The input holds {actual} {unit}, more than the {maximum} the {plan} plan allows "
                f"({limit}; a session's history counts)",
                code="input_too_long",
                param=param,
                details={"limit": limit, "maximum": str(maximum), "actual": str(actual)},
            )
