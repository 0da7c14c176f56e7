"""Every error the SDK raises.

    AIHubError                  base: status_code, type, code, message, details, request_id
    ├── InvalidRequestError     400 (and other 4xx)      invalid_request_error
    │   ├── NotFoundError       404                      invalid_request_error
    │   └── ConflictError       409                      invalid_request_error
    ├── AuthenticationError     401                      authentication_error
    ├── PermissionDeniedError   403                      permission_error
    ├── RateLimitError          429 (+ retry_after)      rate_limit_error
    ├── APIError                5xx, unreadable answers  api_error
    └── APIConnectionError      no answer at all: refused, reset, cut mid-stream
        └── APITimeoutError     no answer in time

The gateway's JSON error body (`{"error": {...}, "request_id": ...}`) and a stream's error event
are translated here, once, to the most specific class: by the spec's error `type` when the body
has one, else by the HTTP status.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from typing import Any


class AIHubError(Exception):
    """Base class of every error raised by the SDK."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        error_type: str | None = None,
        code: str | None = None,
        details: Mapping[str, Any] | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.type = error_type
        self.code = code
        self.details: dict[str, Any] = dict(details or {})
        self.request_id = request_id

    def __str__(self) -> str:
        label = "/".join(part for part in (self.type, self.code) if part)
        prefix = " ".join(part for part in (str(self.status_code or ""), label) if part)
        text = f"[{prefix}] {self.message}" if prefix else self.message
        return f"{text} (request_id: {self.request_id})" if self.request_id else text


class InvalidRequestError(AIHubError):
    """A parameter is missing, malformed or names something that does not exist."""


class NotFoundError(InvalidRequestError):
    """The model, service, session or API key does not exist (for this caller)."""


class ConflictError(InvalidRequestError):
    """The thing to create exists already (for example a registered e-mail address)."""


class AuthenticationError(AIHubError):
    """The API key or token is missing, malformed, unknown, deleted or expired."""


class PermissionDeniedError(AIHubError):
    """The credentials are valid but do not allow this call."""


class RateLimitError(AIHubError):
    """A rate limit or the plan's quota refused the request; `retry_after` is in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class APIError(AIHubError):
    """The gateway or the model behind it failed, or sent an answer the SDK cannot read."""


class APIConnectionError(AIHubError):
    """No answer: the connection failed, was reset, or a stream ended before it was done."""


class APITimeoutError(APIConnectionError):
    """No answer within the client's timeout."""


_BY_TYPE: dict[str, type[AIHubError]] = {
    "invalid_request_error": InvalidRequestError,
    "authentication_error": AuthenticationError,
    "permission_error": PermissionDeniedError,
    "rate_limit_error": RateLimitError,
    "api_error": APIError,
}

_BY_STATUS: dict[int, type[AIHubError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def _error_class(status_code: int | None, error_type: str | None) -> type[AIHubError]:
    cls = _BY_TYPE.get(error_type or "")
    if cls is None:
        if status_code is None:
            return APIError
        if status_code in _BY_STATUS:
            return _BY_STATUS[status_code]
        return InvalidRequestError if 400 <= status_code < 500 else APIError
    if cls is InvalidRequestError and status_code in (404, 409):
        return _BY_STATUS[status_code]
    return cls


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def make_error(
    status_code: int | None,
    payload: Any,
    *,
    request_id: str | None = None,
    retry_after: str | None = None,
    fallback_message: str = "",
) -> AIHubError:
    """Build the most specific error from a status and a decoded error body or stream event."""
    error: Mapping[str, Any] = {}
    if isinstance(payload, Mapping):
        inner = payload.get("error")
        error = inner if isinstance(inner, Mapping) else {}
        if isinstance(payload.get("request_id"), str):
            request_id = request_id or payload["request_id"]
    error_type = error.get("type") if isinstance(error.get("type"), str) else None
    code = error.get("code") if isinstance(error.get("code"), str) else None
    message = error.get("message") if isinstance(error.get("message"), str) else None
    details = error.get("details") if isinstance(error.get("details"), Mapping) else None
    cls = _error_class(status_code, error_type)
    kwargs: dict[str, Any] = {
        "status_code": status_code,
        "error_type": error_type,
        "code": code,
        "details": details,
        "request_id": request_id,
    }
    text = message or fallback_message or f"HTTP {status_code}"
    if issubclass(cls, RateLimitError):
        return cls(text, retry_after=parse_retry_after(retry_after), **kwargs)
    return cls(text, **kwargs)
