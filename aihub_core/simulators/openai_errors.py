"""Error answers of the OpenAI-compatible servers, each in its own shape (upstream-protocols §1.7-§2.5).

openrouter   {"error": {"code": <int status>, "message", "metadata": {"error_type"}}}
openai       {"error": {"message", "type", "param", "code": <str|null>}}
vllm         {"error": {"message", "type", "param", "code": <int>}}
vllm-legacy  {"object": "error", "message", "type", "param", "code": <int>}   (no wrapper)
ollama       {"error": {"message", "type", "param": null, "code": null}}
llamacpp     {"error": {"code": <int>, "message", "type"}}
"""

from __future__ import annotations

import time
from typing import Any

# The status's usual message, and OpenRouter's `metadata.error_type` for it.
MESSAGES: dict[int, tuple[str, str]] = {
    400: (
        "This endpoint's maximum context length is 131072 tokens. You requested about 140000 tokens.",
        "context_length_exceeded",
    ),
    401: ("No auth credentials found", "unauthorized"),
    402: ("Insufficient credits. Add more using https://openrouter.ai/credits", "payment_required"),
    403: ("Your input was flagged for moderation", "content_policy_violation"),
    404: ("Not Found", "not_found"),
    408: ("Request timed out", "timeout"),
    413: ("Request payload too large", "payload_too_large"),
    429: ("Rate limit exceeded: too many requests, please retry shortly", "rate_limit_exceeded"),
    500: ("Internal Server Error", "server"),
    502: ("The chosen model is down or returned an invalid response", "provider_unavailable"),
    503: ("provider overloaded", "provider_overloaded"),
    524: ("Request timed out at the edge", "timeout"),
    529: ("Provider overloaded", "provider_overloaded"),
}
_KINDS: dict[str, tuple[str, str, str | None]] = {  # message, OpenAI type, OpenAI param
    "insufficient_quota": (
        "You exceeded your current quota, please check your plan and billing details.",
        "insufficient_quota",
        None,
    ),
    "stream_options": (
        "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
        "invalid_request_error",
        "stream_options",
    ),
}
_OPENAI_CODES = {
    400: "context_length_exceeded",
    401: "invalid_api_key",
    404: "model_not_found",
    429: "rate_limit_exceeded",
}
_OLLAMA_TYPES = {400: "invalid_request_error", 404: "not_found_error"}


def message_for(status: int) -> str:
    """The usual message of a status, as the scenarios send it."""
    return MESSAGES.get(status, ("Error", ""))[0]


def error_response(
    dialect: str, status: int, message: str, kind: str = ""
) -> tuple[dict[str, Any], dict[str, str]]:
    """The body and headers of an error answer in `dialect`."""
    error_type = MESSAGES.get(status, ("", "server"))[1]
    if dialect == "openrouter":
        headers = {}
        if status == 429:
            headers = {
                "retry-after": "12",
                "x-ratelimit-limit": "20",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": str(int(time.time() + 12) * 1000),
            }
        return {
            "error": {"code": status, "message": message, "metadata": {"error_type": error_type}}
        }, headers
    if dialect == "openai":
        text, kind_type, param = _KINDS.get(
            kind, (message, "invalid_request_error" if status < 500 else "server_error", None)
        )
        code = kind or _OPENAI_CODES.get(status)
        if kind == "stream_options":
            code = None
        headers = {"retry-after": "1", "retry-after-ms": "250"} if status == 429 and not kind else {}
        return {"error": {"message": text, "type": kind_type, "param": param, "code": code}}, headers
    if dialect in ("vllm", "vllm-legacy"):
        error = {
            "message": message,
            "type": "BadRequestError" if status < 500 else "InternalServerError",
            "param": None,
            "code": status,
        }
        return ({"object": "error", **error} if dialect == "vllm-legacy" else {"error": error}), {}
    if dialect == "ollama":
        error = {
            "message": message,
            "type": _OLLAMA_TYPES.get(status, "api_error"),
            "param": None,
            "code": None,
        }
        return {"error": error}, {}
    return {
        "error": {
            "code": status,
            "message": message,
            "type": "server_error" if status >= 500 else "invalid_request_error",
        }
    }, {}
