"""Input limits as pure functions: measuring a conversation, choosing the plan's or the default
limits, and the refusal naming the limit broken."""

from __future__ import annotations

import base64

import pytest

from aihub_core.errors import InvalidRequestError
from aihub_core.limits.input_size import (
    InputLimits,
    InputSize,
    check_input_size,
    effective_limits,
    image_bytes,
    measure_messages,
    measure_texts,
)
from aihub_core.limits.plans import BUILTIN_PLANS, Plan
from aihub_core.messages import Image, ImageURL, Message, ToolCall


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 5, 100, 101])
def test_image_bytes_are_the_decoded_size(size: int) -> None:
    raw = bytes(range(256)) * 2
    data = base64.b64encode(raw[:size]).decode()
    assert image_bytes(Image("image/png", data)) == size


def test_a_conversation_counts_every_text_and_inline_image() -> None:
    png = Image("image/png", base64.b64encode(b"x" * 70).decode())
    messages = [
        Message.of("system", "abc"),
        Message.of("user", "hello", (png,)),
        Message("assistant", (), (ToolCall("call_1", "f", '{"a": 1}'),)),
        Message("user", ("look", ImageURL("https://example.com/x.png"))),
    ]
    assert measure_messages(messages) == InputSize(chars=3 + 5 + 8 + 4, image_bytes=70)
    assert measure_texts(["ab", "", "cde"]) == InputSize(chars=5)


@pytest.mark.parametrize(
    ("plan_chars", "plan_images", "expected"),
    [
        (None, None, InputLimits(100, 2000)),
        (0, None, InputLimits(0, 2000)),
        (50, 10, InputLimits(50, 10)),
    ],
)
def test_the_plan_wins_where_it_sets_a_limit(
    plan_chars: int | None, plan_images: int | None, expected: InputLimits
) -> None:
    plan = Plan("custom", 1, 1, 1, 1, plan_chars, plan_images)
    assert effective_limits(plan, InputLimits(100, 2000)) == expected
    assert effective_limits(BUILTIN_PLANS["free"], InputLimits()) == InputLimits()


@pytest.mark.parametrize(
    ("size", "limit_name"),
    [
        (InputSize(101, 0), "max_input_chars"),
        (InputSize(100, 11), "max_input_image_bytes"),
        (InputSize(101, 11), "max_input_chars"),
    ],
)
def test_beyond_a_limit_is_input_too_long(size: InputSize, limit_name: str) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        check_input_size(size, InputLimits(100, 10), "free", "message")
    error = refused.value
    assert error.code == "input_too_long" and error.details["limit"] == limit_name
    assert error.details["parameter"] == "message"


def test_at_a_limit_or_without_one_passes() -> None:
    check_input_size(InputSize(100, 10), InputLimits(100, 10), "free", "message")
    check_input_size(InputSize(10**9, 10**9), InputLimits(), "free", "message")
