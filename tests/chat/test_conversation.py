from dataclasses import replace
from datetime import UTC, datetime

import pytest

from aihub_core.catalog import load_builtin_catalog
from aihub_core.chat.conversation import build_conversation, image_from_data_uri, image_to_data_uri
from aihub_core.errors import InvalidRequestError
from aihub_core.limits.tokens import estimate_message
from aihub_core.messages import Image, Message
from aihub_core.store.base import StoredMessage

T0 = datetime(2026, 1, 1, tzinfo=UTC)
GROK = load_builtin_catalog().resolve("x-ai/grok-beta", "")


def history(turns: int, size: int = 40) -> list[StoredMessage]:
    out = []
    for i in range(turns):
        out.append(StoredMessage("user", f"question {i} " + "q" * size, T0))
        out.append(StoredMessage("assistant", f"answer {i} " + "a" * size, T0))
    return out


def test_system_prompt_first_history_in_order_user_turn_last() -> None:
    request = build_conversation(GROK, history(2), Message.of("user", "now"), "be brief", 100, 0.5).request
    roles = [m.role for m in request.messages]
    assert roles == ["system", "user", "assistant", "user", "assistant", "user"]
    assert request.messages[0].text == "be brief"
    assert request.messages[1].text.startswith("question 0")
    assert request.messages[-1].text == "now"
    assert (request.model, request.max_tokens, request.temperature) == ("x-ai/grok-beta", 100, 0.5)


def test_oldest_pairs_are_dropped_to_fit_the_context_window() -> None:
    past = history(50, size=400)
    pair = estimate_message(Message.of("user", past[0].content)) + estimate_message(
        Message.of("assistant", past[1].content)
    )
    small = replace(GROK, context_length=pair * 10 + 200)
    conversation = build_conversation(small, past, Message.of("user", "now"), "", 100, None)
    request = conversation.request
    kept = request.messages[:-1]
    assert 2 <= len(kept) < 100 and len(kept) % 2 == 0
    assert kept[-1].text == past[-1].content  # the newest turns survive
    assert sum(estimate_message(m) for m in request.messages) + 100 <= small.context_length
    # The estimate made while trimming is the whole prompt's, and the answer's max_tokens.
    assert conversation.prompt_tokens == sum(estimate_message(m) for m in request.messages)
    assert conversation.tokens == conversation.prompt_tokens + 100


def test_a_message_that_cannot_fit_is_refused() -> None:
    tiny = replace(GROK, context_length=50)
    with pytest.raises(InvalidRequestError) as info:
        build_conversation(tiny, [], Message.of("user", "x" * 400), "", 10, None)
    assert info.value.code == "context_length_exceeded"


def test_max_tokens_above_the_models_limit_is_refused() -> None:
    with pytest.raises(InvalidRequestError) as info:
        build_conversation(GROK, [], Message.of("user", "hi"), "", GROK.max_output_tokens + 1, None)
    assert info.value.details["parameter"] == "max_tokens"


def test_images_round_trip_through_their_stored_form() -> None:
    image = Image("image/png", "iVBORw0KGgo=")
    assert image_from_data_uri(image_to_data_uri(image)) == image
