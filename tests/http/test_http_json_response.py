"""`JsonResponse`: the bytes Starlette's JSONResponse renders, from an encoder built once."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.responses import JSONResponse

from aihub_http.json_response import JsonResponse

VALUES: list[Any] = [
    {"message": 'héllo \u2028 "quoted" \\ \n\t', "n": 3, "x": 0.1, "big": 10**20, "f": 1e-07},
    {"nested": [{"a": None, "b": True, "c": False}, [], {}], "emoji": "\U0001f600"},
    ["a", 1, 2.5, None],
]


@pytest.mark.parametrize("value", VALUES)
def test_the_body_is_starlettes(value: Any) -> None:
    assert JsonResponse(value).body == JSONResponse(value).body


def test_what_starlette_refuses_is_refused_and_the_encoder_stays_usable() -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        JsonResponse({"x": [float("inf")]})
    with pytest.raises(TypeError, match="not JSON serializable"):
        JsonResponse({"x": {object()}})
    assert JsonResponse({"x": [1]}).body == b'{"x":[1]}'
