"""Reading an OpenAI request body: each value checked for its JSON type, a mistake answered with
the 400 that names it by its OpenAI path (`messages[0].content[1].image_url.url`)."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

from aihub_http.errors import ApiError, invalid_request
from aihub_http.parse import has_unpaired_surrogate


def invalid(path: str, expected: str) -> ApiError:
    """`path` has the wrong type or value."""
    return invalid_request("invalid_parameter", f"`{path}` must be {expected}", path)


def missing(path: str) -> ApiError:
    """`path` is required."""
    return invalid_request("missing_parameter", f"`{path}` is required", path)


def unsupported(path: str, message: str) -> ApiError:
    """`path` asks for something AI Hub does not offer."""
    return invalid_request("unsupported_parameter", message, path)


def known(data: Mapping[str, Any], allowed: Collection[str], prefix: str = "") -> None:
    """Refuse the first member of `data` that is not in `allowed`."""
    for key in data:
        if key not in allowed:
            raise invalid_request(
                "unknown_parameter", f"Unrecognized request argument `{prefix}{key}`", f"{prefix}{key}"
            )


def text(value: Any, path: str) -> str:
    """A string."""
    if not isinstance(value, str):
        raise invalid(path, "a string")
    if has_unpaired_surrogate(value):
        raise invalid(path, "a string without unpaired surrogates")
    return value


def integer(value: Any, path: str, low: int = -(2**63), high: int = 2**63 - 1) -> int:
    """An integer (`3.0` counts) from `low` to `high`."""
    integral = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not integral:
        raise invalid(path, "an integer")
    if not low <= value <= high:
        raise invalid(path, f"between {low} and {high}")
    return int(value)


def number(value: Any, path: str) -> float:
    """A finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid(path, "a number")
    try:
        result = float(value)
    except OverflowError:
        raise invalid(path, "a finite number") from None
    if not math.isfinite(result):
        raise invalid(path, "a finite number")
    return result


def boolean(value: Any, path: str) -> bool:
    """`true` or `false`."""
    if not isinstance(value, bool):
        raise invalid(path, "a boolean")
    return value


def obj(value: Any, path: str) -> dict[str, Any]:
    """A JSON object."""
    if not isinstance(value, dict):
        raise invalid(path, "an object")
    return value


def array(value: Any, path: str) -> list[Any]:
    """A JSON array."""
    if not isinstance(value, list):
        raise invalid(path, "an array")
    return value


def one_of(value: Any, path: str, choices: Collection[str]) -> str:
    """One of `choices`."""
    if not isinstance(value, str) or value not in choices:
        raise invalid(path, "one of " + ", ".join(f"`{c}`" for c in choices))
    return str(value)
