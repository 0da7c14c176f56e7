"""The HTTP side every adapter shares: bounded waits, and the one translation of failures.

    httpx.TimeoutException, TimeoutError  -> UpstreamTimeoutError
    any other httpx.HTTPError             -> UpstreamError
    HTTP 401, 403 (or `auth=True`)        -> UpstreamAuthError    (our 500: the operator's key)
    HTTP 408, 504, 524                    -> UpstreamTimeoutError
    HTTP 429                              -> UpstreamError, code `upstream_rate_limited`
    any other non-2xx                     -> UpstreamError

Every error carries the details a retry layer decides on (all strings, as details are):
    retryable    "true" for connect errors, timeouts before the first byte, 408, 409, 429 and
                 5xx (524 and 529 included); "false" for other 4xx, for quota exhaustion
                 (insufficient_quota, per-day quotas) and for anything after text went out
    retry_after  seconds the upstream asked us to wait (`retry-after-ms`, `Retry-After`, or
                 Gemini's RetryInfo.retryDelay), only when it said

Waits: the request must get its headers and first body bytes within `first_byte` of being
sent; after that, each read must arrive within `idle` of the previous one. httpx applies one
read timeout to every socket read, so it only gets the larger of the two as a backstop and the
exact bounds are asyncio deadlines around each read (never around a `yield`).
"""

from __future__ import annotations

import abc
import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from aihub_core.errors import UpstreamAuthError, UpstreamError, UpstreamTimeoutError
from aihub_core.settings import UpstreamTimeouts

_MAX_MESSAGE = 300
_MAX_ERROR_BODY = 64 * 1024
_TIMEOUT_STATUSES = frozenset({408, 504, 524})
_REDACTED = "[redacted]"


@dataclass(frozen=True)
class UpstreamFailure:
    """An upstream's error as its adapter read it: reason text, own code, retry hint."""

    message: str
    code: str | None = None
    retry_after: float | None = None
    auth: bool = False  # the provider refused our key without saying 401/403 (Gemini: 400)
    retryable: bool | None = None  # the provider's own word (a quota is not retryable); None: by status


FailureParser = Callable[[httpx.Response, bytes], UpstreamFailure]


class UpstreamClient:
    """One service's HTTP calls over the shared client: bounded in time, failures translated."""

    def __init__(
        self,
        service: str,
        client: httpx.AsyncClient,
        timeouts: UpstreamTimeouts,
        *,
        secret: str | None,
        parse_failure: FailureParser,
    ) -> None:
        self._service = service
        self._client = client
        self._timeouts = timeouts
        # As a whole token only: a short test key must not eat letters out of words.
        self._secret = re.compile(rf"(?<![\w-]){re.escape(secret)}(?![\w-])") if secret else None
        self._parse_failure = parse_failure
        self._http_timeout = httpx.Timeout(max(timeouts.first_byte, timeouts.idle), connect=timeouts.connect)

    def error(
        self,
        status: int | None,
        failure: UpstreamFailure,
        *,
        in_band: bool = False,
        after_content: bool = False,
    ) -> UpstreamError:
        """Our error for an upstream failure; `in_band` when it came inside a 200 answer or stream,
        `after_content` when part of the answer has already gone out."""
        reason = self._scrub(failure.message)[:_MAX_MESSAGE] or "no reason given"
        retryable = failure.retryable if failure.retryable is not None else _retryable_status(status)
        details = {"service": self._service, "retryable": _flag(retryable and not after_content)}
        if status is not None:
            details["upstream_status"] = str(status)
        if failure.code:
            details["upstream_code"] = self._scrub(failure.code)[:_MAX_MESSAGE]
        if failure.retry_after is not None:
            details["retry_after"] = f"{failure.retry_after:g}"
        if in_band or status is None:
            message = f"{self._service} failed mid-response: {reason}"
        else:
            message = f"{self._service} returned {status}: {reason}"
        if failure.auth or status in (401, 403):
            return UpstreamAuthError(
                f"{self._service} refused the gateway's provider key: {reason}", details=details
            )
        if status in _TIMEOUT_STATUSES:
            return UpstreamTimeoutError(message, details=details)
        if status == 429:
            return UpstreamError(message, code="upstream_rate_limited", details=details)
        return UpstreamError(message, details=details)

    @asynccontextmanager
    async def post(
        self, url: str, payload: dict[str, Any], headers: dict[str, str]
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        """POST JSON and give the 2xx body's chunks; the response is closed on leaving, read or not."""
        deadline = asyncio.get_running_loop().time() + self._timeouts.first_byte
        request = self._client.build_request(
            "POST", url, json=payload, headers=headers, timeout=self._http_timeout
        )
        try:
            async with asyncio.timeout_at(deadline):
                response = await self._client.send(request, stream=True)
        except (TimeoutError, httpx.HTTPError) as exc:
            raise self._transport_error(exc, True) from exc
        try:
            if not response.is_success:
                body = b""
                async for chunk in self._chunks(response, deadline):
                    body += chunk
                    if len(body) > _MAX_ERROR_BODY:
                        break  # enough to quote; a proxy's giant error page is not worth waiting for
                raise self.error(response.status_code, self._parse_failure(response, body))
            yield self._chunks(response, deadline)
        finally:
            await response.aclose()

    async def post_json(self, url: str, payload: dict[str, Any], headers: dict[str, str]) -> Any:
        """POST JSON and return the decoded 2xx JSON body."""
        async with self.post(url, payload, headers) as chunks:
            body = b"".join([chunk async for chunk in chunks])
        try:
            return json.loads(body)
        except ValueError:
            raise self.error(None, UpstreamFailure("the response is not JSON")) from None

    def _chunks(self, response: httpx.Response, deadline: float) -> _Chunks:
        # aiter_bytes, not aiter_raw: it undoes a gzip Content-Encoding (and never splits lines).
        return _Chunks(response.aiter_bytes(), deadline, self._timeouts.idle, self._transport_error)

    def _transport_error(self, exc: Exception, first: bool) -> UpstreamError:
        # Nothing received yet: the request can go again. After the first byte the upstream has
        # started (and may bill) the answer, so a retry is no longer the safe default.
        details = {"service": self._service, "retryable": _flag(first)}
        if isinstance(exc, httpx.ConnectTimeout):
            return UpstreamTimeoutError(
                f"{self._service} did not accept a connection within {self._timeouts.connect:g}s",
                details=details,
            )
        if isinstance(exc, (TimeoutError, httpx.TimeoutException)):
            if first:
                wait = f"sent no response within {self._timeouts.first_byte:g}s"
            else:
                wait = f"stalled for {self._timeouts.idle:g}s mid-response"
            return UpstreamTimeoutError(f"{self._service} {wait}", details=details)
        if isinstance(exc, httpx.ConnectError):
            return UpstreamError(f"{self._service} could not be reached", details=details)
        reason = self._scrub(str(exc)) or type(exc).__name__
        return UpstreamError(f"{self._service} connection failed: {reason}"[:_MAX_MESSAGE], details=details)

    def _scrub(self, text: str) -> str:
        """Never let the provider key travel on in an error, even if an upstream echoes it."""
        return self._secret.sub(_REDACTED, text) if self._secret else text


def _retryable_status(status: int | None) -> bool:
    """As openai-python and python-genai retry: 408, 409, 429, 5xx; and an in-band error without a status."""
    return status is None or status in (408, 409, 429) or status >= 500


def _flag(value: bool) -> str:
    return "true" if value else "false"


class HTTPProvider(abc.ABC):
    """What every adapter is made of: its name, whether it is simulated, its headers, its UpstreamClient."""

    def __init__(
        self,
        name: str,
        base_url: str,
        api_key: str | None,
        client: httpx.AsyncClient,
        timeouts: UpstreamTimeouts,
        simulated: bool = False,
        extra_headers: dict[str, str] | None = None,
    ) -> None:
        self._name = name
        self._simulated = simulated
        self._base_url = base_url.rstrip("/")
        self._headers = {**(extra_headers or {}), **(self._auth_headers(api_key) if api_key else {})}
        self._upstream = UpstreamClient(
            name, client, timeouts, secret=api_key, parse_failure=self._parse_failure
        )

    @property
    def name(self) -> str:
        """The service name used in the API, e.g. `openrouter`."""
        return self._name

    @property
    def simulated(self) -> bool:
        """True when the base URL points at a built-in simulator."""
        return self._simulated

    @staticmethod
    @abc.abstractmethod
    def _auth_headers(api_key: str) -> dict[str, str]:
        """How this protocol presents the provider key."""

    @staticmethod
    @abc.abstractmethod
    def _parse_failure(response: httpx.Response, body: bytes) -> UpstreamFailure:
        """Read a non-2xx answer in this protocol's error shape."""


class _Chunks:
    """A response's raw body reads, each bounded: the first by the first-byte deadline, then by idle."""

    def __init__(
        self,
        reads: AsyncIterator[bytes],
        deadline: float,
        idle: float,
        translate: Callable[[Exception, bool], UpstreamError],
    ) -> None:
        self._reads = reads
        self._deadline: float | None = deadline
        self._idle = idle
        self._translate = translate

    def __aiter__(self) -> _Chunks:
        return self

    async def __anext__(self) -> bytes:
        first = self._deadline is not None
        loop = asyncio.get_running_loop()
        deadline = self._deadline if self._deadline is not None else loop.time() + self._idle
        try:
            async with asyncio.timeout_at(deadline):
                chunk = await anext(self._reads)
        except (TimeoutError, httpx.HTTPError) as exc:
            raise self._translate(exc, first) from exc
        self._deadline = None
        return chunk
