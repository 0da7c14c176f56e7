"""`json_text.compact`: the text `json.dumps` gives with the same options, from an encoder built once."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aihub_core import json_text

VALUES: list[Any] = [
    {"message": 'héllo \u2028 "quoted" \\ \n\t', "n": 3, "x": 0.1, "big": 10**20, "f": 1e-07},
    {"nested": [{"a": None, "b": True, "c": False}, [], {}], "emoji": "\U0001f600"},
    ["a", 1, 2.5, None],
    "just a string",
    -0.0,
]


@pytest.mark.parametrize("value", VALUES)
def test_compact_is_the_text_of_json_dumps_with_its_options(value: Any) -> None:
    expected = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    assert json_text.compact(value) == expected


def test_compact_refuses_what_json_dumps_refuses_and_stays_usable() -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        json_text.compact({"x": [float("nan")]})
    with pytest.raises(TypeError, match="not JSON serializable"):
        json_text.compact({"x": {object()}})
    assert json_text.compact({"x": [1]}) == '{"x":[1]}'
