"""The JSON response of the shim's routes: Starlette's JSONResponse, the same bytes, encoded
without building a JSON encoder per response (as `aihub_core.json_text.compact` does for the
core: the shim imports nothing of the core's)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from starlette.responses import JSONResponse


def _unserializable(value: object) -> Any:
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


# The encoder Starlette's `json.dumps` call builds per response, built once: it keeps no state
# between calls (no circular-reference markers, which a tree of fresh dicts and lists does not
# need). `c_make_encoder` is the C accelerator json.encoder uses (None without it).
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


class JsonResponse(JSONResponse):
    """A JSON body of fresh dicts and lists (no reference cycles), compact, UTF-8, no NaN."""

    def render(self, content: Any) -> bytes:
        if _COMPACT is None:
            return super().render(content)
        return "".join(_COMPACT(content, 0)).encode("utf-8")
