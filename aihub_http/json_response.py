"""The JSON response of the shim's routes: Starlette's JSONResponse, the same bytes, encoded
without building a JSON encoder per response (`json_text.compact`)."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from aihub_core.json_text import compact


class JsonResponse(JSONResponse):
    """A JSON body of fresh dicts and lists (no reference cycles), compact, UTF-8, no NaN."""

    def render(self, content: Any) -> bytes:
        return compact(content).encode("utf-8")
