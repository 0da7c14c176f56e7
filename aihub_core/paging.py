"""Offset paging for list RPCs: opaque tokens, validated."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import TypeVar

from aihub_core.errors import InvalidRequestError

T = TypeVar("T")
MAX_PAGE_SIZE = 1000


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _decode(token: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        prefix, _, number = raw.partition(":")
        if prefix != "offset" or not number.isdigit():
            raise ValueError(raw)
        return int(number)
    except ValueError:
        raise InvalidRequestError(
            "page_token is not valid", code="invalid_page_token", param="page_token"
        ) from None


def page(items: Sequence[T], page_size: int, page_token: str) -> tuple[list[T], str]:
    """One page of items and the token of the next page ('' on the last); page_size 0 means all."""
    if page_size < 0 or page_size > MAX_PAGE_SIZE:
        raise InvalidRequestError(f"page_size must be between 0 and {MAX_PAGE_SIZE}", param="page_size")
    start = _decode(page_token) if page_token else 0
    if page_size == 0:
        return list(items[start:]), ""
    end = start + page_size
    return list(items[start:end]), _encode(end) if end < len(items) else ""
