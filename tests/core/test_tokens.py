"""The estimate of a cut-off answer's completion tokens, from a table."""

from __future__ import annotations

import pytest

from aihub_core.limits.tokens import estimate_delivered, estimate_text


@pytest.mark.parametrize(
    ("text", "max_tokens", "tokens"),
    [
        ("", None, 0),
        (" This is a simulated answer.", None, 5),  # a word a token
        (" a b c d e f g h", None, 4),  # short words: four characters a token is lower
        (" 你好世界", None, 4),  # a non-ASCII character a token
        (" naïve café", None, 2),
        (" This is a simulated answer.", 3, 3),  # never above max_tokens
    ],
)
def test_a_delivered_text_is_counted_low_and_capped(text: str, max_tokens: int | None, tokens: int) -> None:
    assert estimate_delivered(text, max_tokens) == tokens
    assert estimate_delivered(text, max_tokens) <= estimate_text(text)
