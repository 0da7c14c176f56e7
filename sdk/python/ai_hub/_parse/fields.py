"""What an answer's headers say, and lenient readers of decoded JSON fields."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from .._exceptions import APIError
from ..types import (
    RateLimit,
)


@dataclass(frozen=True)
class ResponseMeta:
    """What an answer's headers say about it."""

    request_id: str | None = None
    rate_limit: RateLimit | None = None

    @classmethod
    def from_headers(cls, headers: httpx.Headers) -> ResponseMeta:
        values = [_header_int(headers.get(name)) for name in _RATE_LIMIT_HEADERS]
        rate_limit = RateLimit(*values) if any(v is not None for v in values) else None
        return cls(request_id=headers.get("x-request-id"), rate_limit=rate_limit)


_RATE_LIMIT_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")


def _header_int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _opt_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _str(data: Mapping[str, Any], key: str, what: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise APIError(f"Unexpected answer from the gateway: {what} has no {key!r}", error_type="api_error")
    return value


def _id(data: Mapping[str, Any], key: str, what: str) -> str:
    value = data.get(key)
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else _str(data, key, what)


def _opt_int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _int(data: Mapping[str, Any], key: str) -> int:
    return _opt_int(data, key) or 0


def _float(data: Mapping[str, Any], key: str) -> float:
    value = data.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _strs(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key)
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()
