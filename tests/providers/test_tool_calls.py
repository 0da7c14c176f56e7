"""Tool-call pieces from every dialect become one form: calls numbered from 0, id and name once."""

from __future__ import annotations

import json

from aihub_core.messages import ToolCall
from aihub_core.providers._tool_calls import ToolCallAssembler
from aihub_core.providers.base import ToolCallDelta


def test_openai_pieces_keyed_by_index_pass_through_with_id_and_name_first() -> None:
    calls = ToolCallAssembler()
    pieces = [
        calls.piece(0, "call_a", "get_weather", ""),
        calls.piece(0, "", "", '{"ci'),
        calls.piece(0, "", "", 'ty": "Oslo"}'),
    ]
    assert pieces == [
        ToolCallDelta(0, "call_a", "get_weather", ""),
        ToolCallDelta(0, arguments='{"ci'),
        ToolCallDelta(0, arguments='ty": "Oslo"}'),
    ]
    assert calls.calls == (ToolCall("call_a", "get_weather", '{"city": "Oslo"}'),)


def test_parallel_calls_interleaved_by_index_and_numbered_in_order_of_appearance() -> None:
    calls = ToolCallAssembler()
    # Some providers behind OpenRouter number from 1 (a text part took 0) and interleave.
    calls.piece(1, "call_a", "f", "")
    calls.piece(2, "call_b", "g", "")
    second = calls.piece(2, "", "", '{"y": 2}')
    first = calls.piece(1, "", "", '{"x": 1}')
    assert (first, second) == (ToolCallDelta(0, arguments='{"x": 1}'), ToolCallDelta(1, arguments='{"y": 2}'))
    assert calls.calls == (ToolCall("call_a", "f", '{"x": 1}'), ToolCall("call_b", "g", '{"y": 2}'))


def test_repeated_ids_and_names_are_dropped_and_an_empty_repeat_says_nothing() -> None:
    calls = ToolCallAssembler()
    calls.piece(0, "call_a", "f", "")
    assert calls.piece(0, "call_a", "f", "") is None
    assert calls.piece(0, "call_a", "f", '{"x"') == ToolCallDelta(0, arguments='{"x"')
    assert calls.piece(0, "call_a", "f", ": 1}") == ToolCallDelta(0, arguments=": 1}")
    assert calls.calls == (ToolCall("call_a", "f", '{"x": 1}'),)


def test_one_index_reused_with_new_ids_is_several_calls() -> None:
    calls = ToolCallAssembler()
    first = calls.piece(0, "call_a", "f", "{}")
    second = calls.piece(0, "call_b", "g", "{}")
    assert (first, second) == (ToolCallDelta(0, "call_a", "f", "{}"), ToolCallDelta(1, "call_b", "g", "{}"))


def test_pieces_without_an_index_continue_the_current_call() -> None:
    calls = ToolCallAssembler()
    calls.piece(None, "call_a", "f", '{"x":')
    calls.piece(None, "", "", " 1}")
    calls.piece(None, "call_b", "g", "{}")
    assert [c.arguments for c in calls.calls] == ['{"x": 1}', "{}"]


def test_calls_without_ids_get_ours_and_a_late_upstream_id_changes_nothing() -> None:
    calls = ToolCallAssembler()
    head = calls.piece(0, "", "f", "")
    assert head is not None and head.id.startswith("call_") and len(head.id) == 29
    assert calls.piece(0, "late_id", "", "{}") == ToolCallDelta(0, arguments="{}")
    whole = calls.whole("", "g", json.dumps({"y": 2}))
    assert whole.index == 1 and whole.id.startswith("call_") and whole.id != head.id
    assert whole == ToolCallDelta(1, whole.id, "g", '{"y": 2}')
    assert [c.id for c in calls.calls] == [head.id, whole.id]


def test_a_name_after_the_id_is_passed_on_once() -> None:
    calls = ToolCallAssembler()
    calls.piece(0, "call_a", "", "")
    assert calls.piece(0, "", "f", "") == ToolCallDelta(0, name="f")
    assert calls.calls == (ToolCall("call_a", "f", ""),)
