"""Errors in OpenAI's shape: `{"error": {"message", "type", "param", "code"}, "request_id"}`.

The status, type and code are the developer API's (so the SDKs raise the same classes for the
same failures: 400 BadRequestError, 401 AuthenticationError, 403 PermissionDeniedError, 404
NotFoundError, 429 RateLimitError, 5xx InternalServerError), and the headers too (`Retry-After`,
`X-RateLimit-*`). `param` is OpenAI's name for the field the core named by its contract path.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.responses import JSONResponse

from aihub_http.errors import ApiError
from aihub_http.metadata import REQUEST_ID_HEADER

# The contract's image part is OpenAI's `image_url` part: `.image.data` and `.image.url` are both
# its `image_url.url` (a data URI or a URL).
_IMAGE = re.compile(r"\.image(\.(?:url|data|detail))?(?=\.|$)")


def openai_param(param: str, max_tokens_name: str = "max_tokens") -> str:
    """OpenAI's name for a parameter the core names by its contract path."""
    if param.startswith("generation."):
        name = param.removeprefix("generation.")
        return max_tokens_name if name == "max_tokens" else name
    if param.startswith("tool_choice."):
        return "tool_choice"
    return _IMAGE.sub(_image_name, param)


def _image_name(match: re.Match[str]) -> str:
    suffix = match.group(1)
    if suffix is None:
        return ".image_url"
    return ".image_url.detail" if suffix == ".detail" else ".image_url.url"


def error_object(exc: ApiError, max_tokens_name: str = "max_tokens") -> dict[str, Any]:
    """The `error` member: the message, the spec's type and code, and the parameter, if any."""
    param = exc.details.get("parameter")
    message = exc.message
    if param:
        named = openai_param(param, max_tokens_name)
        message = message.replace(param, named)
        param = named
    return {"message": message, "type": exc.error_type, "param": param or None, "code": exc.code}


def error_response(exc: ApiError, request_id: str, max_tokens_name: str = "max_tokens") -> JSONResponse:
    """The whole answer, with the error's headers and the request id."""
    body = {"error": error_object(exc, max_tokens_name), "request_id": request_id}
    headers = {**exc.headers, REQUEST_ID_HEADER: request_id}
    return JSONResponse(body, status_code=exc.status_code, headers=headers)
