from __future__ import annotations

import pytest

from aihub_core.simulators.scenarios import HEALTHY, SCENARIOS, UnknownScenarioError, choose, split_model
from aihub_core.simulators.simulator import fragments
from aihub_core.simulators.text import simulate_answer


def test_answers_are_deterministic_readable_and_say_they_are_simulated() -> None:
    answer = simulate_answer("seed", "x-ai/grok-beta", None)
    assert answer == simulate_answer("seed", "x-ai/grok-beta", None)
    assert answer.text.startswith("This is a simulated answer from x-ai/grok-beta.")
    assert answer.text.isascii() and 40 <= len(answer.tokens) <= 80 and not answer.truncated
    assert simulate_answer("other seed", "x-ai/grok-beta", None).text != answer.text


@pytest.mark.parametrize("max_tokens", [1, 2, 7, 40, 1000])
def test_max_tokens_bounds_text_plus_thinking(max_tokens: int) -> None:
    answer = simulate_answer("seed", "m", max_tokens, thinking=True)
    assert len(answer.tokens) + answer.thoughts <= max_tokens
    full = simulate_answer("seed", "m", None, thinking=True)
    assert answer.truncated == (len(full.tokens) + answer.thoughts > max_tokens)


def test_pieces_cover_the_answer_with_running_token_counts() -> None:
    answer = simulate_answer("seed", "m", None)
    pieces = answer.pieces()
    assert len(pieces) >= 3
    assert "".join(text for text, _ in pieces) == answer.text
    assert pieces[-1][1] == len(answer.tokens)


def test_the_unicode_answer_has_every_special_character() -> None:
    text = simulate_answer("seed", "m", None, unicode=True).text
    assert all(ch in text for ch in ("你", "🙂", "\u2028", "é"))


def test_fragments_cut_inside_characters_and_crlf_and_rejoin() -> None:
    data = "data: é🙂\r\n\r\n".encode()
    parts = fragments(data)
    assert b"".join(parts) == data
    assert b"data: \xc3" in parts[0] + parts[1] and any(p.endswith(b"\r") for p in parts)


def test_scenario_choice_order_and_model_suffixes() -> None:
    assert split_model("x-ai/grok-beta@error-500") == ("x-ai/grok-beta", "error-500")
    assert split_model("gemini-2.5-flash") == ("gemini-2.5-flash", None)
    assert choose(None, None, None) is HEALTHY
    assert choose("stall", "error-500", "unicode").name == "stall"
    assert choose(None, "error-500", "unicode").name == "error-500"
    assert choose(None, None, "unicode").name == "unicode"
    with pytest.raises(UnknownScenarioError):
        choose("nope", None, None)


def test_the_documented_scenarios_exist() -> None:
    required = {
        "error-500",
        "error-429",
        "error-401",
        "midstream-error",
        "unicode",
        "slow-first-byte",
        "stall",
    }
    assert required <= set(SCENARIOS)
    assert all(s.summary for s in SCENARIOS.values())
