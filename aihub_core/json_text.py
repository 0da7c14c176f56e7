"""JSON text from outside the process (upstream answers, files), decoded without surprises."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any


def loads(text: str | bytes | bytearray) -> Any:
    """`json.loads`, except that a document nested too deep for the decoder is a ValueError like
    any other malformed one (the decoder raises RecursionError, which no `except ValueError`
    around a decode expects)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _unserializable(value: object) -> Any:
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


# The encoder `json.dumps` builds on every call with these options, built once (it keeps no
# state between calls: no circular-reference markers, which a tree of fresh dicts and lists
# does not need). `c_make_encoder` is the C accelerator json.encoder uses (None without it).
_make_encoder: Callable[..., Callable[[Any, int], Sequence[str]]] | None = getattr(
    json.encoder, "c_make_encoder", None
)
_COMPACT = (
    None
    if _make_encoder is None
    else _make_encoder(
        None, _unserializable, json.encoder.encode_basestring, None, ":", ",", False, False, False
    )
)


def compact(value: Any) -> str:
    """`json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))`, the same
    text, without building an encoder per call (`value` must hold no reference cycle)."""
    if _COMPACT is None:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return "".join(_COMPACT(value, 0))
