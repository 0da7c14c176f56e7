"""What the sync and async clients share: options, request descriptions, retries, translation."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from ._exceptions import (
    AIHubError,
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    RateLimitError,
    make_error,
    parse_retry_after,
)
from ._version import __version__

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_RETRIES = 2

INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
# A Retry-After longer than this (a spent monthly quota, say) is raised, not slept through.
MAX_RETRY_AFTER = 60.0

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_API_SUFFIXES = ("/v1/developer", "/v1")

Auth = Literal["api_key", "token", "none"]


@dataclass(frozen=True)
class Request:
    """One API call, before it is sent: the same for the sync and the async client."""

    method: str
    path: str
    auth: Auth = "api_key"
    json: Mapping[str, Any] | None = None
    params: Mapping[str, str] | None = None
    idempotency_key: str | None = None
    stream: bool = False

    @property
    def retryable(self) -> bool:
        """Whether sending it twice is harmless: an idempotent method, or a stored-reply key."""
        return self.method in _SAFE_METHODS or self.idempotency_key is not None


def normalize_base_url(url: str) -> str:
    """The server root: a URL copied from the docs with `/v1` or `/v1/developer` works too."""
    url = url.strip().rstrip("/")
    for suffix in _API_SUFFIXES:
        if url.endswith(suffix):
            return url[: -len(suffix)]
    return url


@dataclass(frozen=True)
class Options:
    """A client's settings, resolved once from its arguments and the environment."""

    base_url: str
    api_key: str | None = field(repr=False)
    token: str | None = field(repr=False)
    timeout: httpx.Timeout
    max_retries: int

    @classmethod
    def resolve(
        cls,
        *,
        api_key: str | None,
        base_url: str | None,
        token: str | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        environ: Mapping[str, str],
    ) -> Options:
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        return cls(
            base_url=normalize_base_url(base_url or environ.get("AI_HUB_BASE_URL") or DEFAULT_BASE_URL),
            api_key=api_key or environ.get("AI_HUB_API_KEY") or None,
            token=token,
            timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
            max_retries=max_retries,
        )

    def url(self, request: Request) -> str:
        return self.base_url + request.path

    def headers(self, request: Request) -> dict[str, str]:
        """Headers for `request`; raises AuthenticationError when it needs credentials there are none of."""
        headers = {
            "Accept": "text/event-stream" if request.stream else "application/json",
            "User-Agent": f"ai-hub-python/{__version__}",
        }
        if request.idempotency_key is not None:
            headers["Idempotency-Key"] = request.idempotency_key
        if request.auth == "none":
            return headers
        preferred = (self.api_key, self.token) if request.auth == "api_key" else (self.token, self.api_key)
        credential = preferred[0] or preferred[1]
        if not credential:
            raise AuthenticationError(
                _MISSING[request.auth], error_type="authentication_error", code="missing_credentials"
            )
        headers["Authorization"] = f"Bearer {credential}"
        return headers


_MISSING = {
    "api_key": "No API key: pass api_key=... or set AI_HUB_API_KEY",
    "token": "No token: log in with client.auth.login(...) and use client.with_token(info.token)",
}


def connection_error(exc: httpx.RequestError) -> APIConnectionError:
    """The SDK error for a transport failure, chained to it."""
    error: APIConnectionError
    if isinstance(exc, httpx.TimeoutException):
        error = APITimeoutError(f"Request timed out: {exc!r}")
    else:
        error = APIConnectionError(f"Connection error: {exc!r}")
    error.__cause__ = exc
    return error


def status_error(response: httpx.Response) -> AIHubError:
    """The SDK error for a non-2xx answer whose body has been read."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    fallback = response.text.strip()[:200] or response.reason_phrase
    return make_error(
        response.status_code,
        payload,
        request_id=response.headers.get("x-request-id"),
        retry_after=response.headers.get("retry-after"),
        fallback_message=fallback,
    )


def json_body(response: httpx.Response) -> Mapping[str, Any]:
    """The JSON object of a 2xx answer; anything else is an APIError."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, Mapping):
        raise APIError(
            f"Expected a JSON object from the gateway, got {response.text[:200]!r}",
            status_code=response.status_code,
            error_type="api_error",
            request_id=response.headers.get("x-request-id"),
        )
    return body


def retry_delay(
    request: Request, error: AIHubError, attempt: int, max_retries: int, headers: httpx.Headers | None
) -> float | None:
    """Seconds to wait before retrying after `error`, or None to raise it."""
    if attempt >= max_retries or not request.retryable:
        return None
    if isinstance(error, RateLimitError):
        if error.code == "quota_exceeded":
            return None
    elif not isinstance(error, APIConnectionError) and (error.status_code or 0) < 500:
        return None
    retry_after = parse_retry_after(headers.get("retry-after")) if headers is not None else None
    if retry_after is not None:
        return retry_after if retry_after <= MAX_RETRY_AFTER else None
    backoff: float = min(MAX_RETRY_DELAY, INITIAL_RETRY_DELAY * 2**attempt)
    return backoff * random.uniform(0.5, 1.0)
