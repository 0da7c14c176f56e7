"""The HTTP side every adapter shares: one connection pool, bounded waits, one translation of failures,
for chat calls and model lists alike.

    aiohttp.ConnectionTimeoutError        -> UpstreamTimeoutError (not connected within `connect`)
    TimeoutError                          -> UpstreamTimeoutError
    aiohttp.ClientConnectorError          -> UpstreamError        (refused, DNS, TLS: never reached)
    any other aiohttp.ClientError         -> UpstreamError
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
sent; after that, each read must arrive within `idle` of its asking (`BoundedReads`). Both bound
the reads only (never a `yield`); aiohttp itself only bounds the connect.

The client is aiohttp rather than httpx: per request it costs a fifth of the CPU (C parser,
no per-request model objects), and the gateway's budget is 1 ms per call in total.
"""

from __future__ import annotations

import abc
import asyncio
import os
import re
import ssl
import urllib.request
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import certifi
from yarl import URL

from aihub_core import json_text
from aihub_core.errors import UpstreamAuthError, UpstreamError, UpstreamTimeoutError
from aihub_core.messages import EmbeddingRequest, ProviderRequest
from aihub_core.providers._reads import BoundedReads
from aihub_core.providers.base import Completion, Embeddings, StreamEvent
from aihub_core.providers.listings import Listed, ListingError, ModelListParser, Page
from aihub_core.providers.timeouts import UpstreamTimeouts

_MAX_MESSAGE = 300
_MAX_ERROR_BODY = 64 * 1024
_TIMEOUT_STATUSES = frozenset({408, 504, 524})
_REDACTED = "[redacted]"
_JSON = "application/json"
# As httpx's pool (which this replaced) did: an idle connection is dropped before a server's
# own keep-alive timeout can close it under a request being sent.
_KEEPALIVE_SECONDS = 5.0
MAX_MODEL_PAGES = 1000  # a cursor that never ends is a broken upstream, not a big catalog


def upstream_session(max_connections: int = 1000) -> aiohttp.ClientSession:
    """The one connection pool every adapter shares (keep-alive, gzip decoded, no cookies).

    Call it inside the running event loop; close it with `await session.close()`.
    """
    connector = aiohttp.TCPConnector(
        limit=max_connections, keepalive_timeout=_KEEPALIVE_SECONDS, ssl=_tls_context()
    )
    # Cookies an upstream sets are not ours to send back on other users' calls.
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())


def _tls_context() -> ssl.SSLContext:
    """Mozilla's CA bundle (certifi), as httpx and the provider SDKs verify, unless the
    environment names its own with SSL_CERT_FILE or SSL_CERT_DIR."""
    if os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


def env_proxy(base_url: str) -> tuple[URL | None, aiohttp.BasicAuth | None]:
    """The HTTP(S)_PROXY (or ALL_PROXY) to reach `base_url` through, unless NO_PROXY exempts it,
    as httpx read them. Once per upstream: aiohttp's trust_env would redo it, and look for a
    .netrc, in a thread on every request."""
    target = urlsplit(base_url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(target.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(target.hostname or ""):
        return None, None
    url = URL(proxy)
    return url.with_user(None), aiohttp.BasicAuth.from_url(url)


@dataclass(frozen=True)
class UpstreamFailure:
    """An upstream's error as its adapter read it: reason text, own code, retry hint."""

    message: str
    code: str | None = None
    retry_after: float | None = None
    auth: bool = False  # the provider refused our key without saying 401/403 (Gemini: 400)
    retryable: bool | None = None  # the provider's own word (a quota is not retryable); None: by status


FailureParser = Callable[[aiohttp.ClientResponse, bytes], UpstreamFailure]


class UpstreamClient:
    """One service's HTTP calls over the shared client: bounded in time, failures translated."""

    def __init__(
        self,
        service: str,
        session: aiohttp.ClientSession,
        timeouts: UpstreamTimeouts,
        *,
        base_url: str,
        secret: str | None,
        parse_failure: FailureParser,
    ) -> None:
        self._service = service
        self._session = session
        self._timeouts = timeouts
        # As a whole token only: a short test key must not eat letters out of words.
        self._secret = re.compile(rf"(?<![\w-]){re.escape(secret)}(?![\w-])") if secret else None
        self._parse_failure = parse_failure
        # Only the connect is aiohttp's to bound (waiting for a pooled connection is not);
        # every read has an asyncio deadline of our own.
        self._http_timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeouts.connect)
        self._proxy, self._proxy_auth = env_proxy(base_url)

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

    def post(
        self, url: str, payload: dict[str, Any], headers: dict[str, str]
    ) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
        """POST JSON and give the 2xx body's chunks; the response is closed on leaving, read or not."""
        # As httpx's `json=` encoded it: compact, UTF-8, no NaN.
        body = json_text.compact(payload).encode()
        return self._exchange("POST", url, {"Content-Type": _JSON, **headers}, data=body)

    async def post_json(self, url: str, payload: dict[str, Any], headers: dict[str, str]) -> Any:
        """POST JSON and return the decoded 2xx JSON body."""
        async with self.post(url, payload, headers) as chunks:
            body = b"".join([chunk async for chunk in chunks])
        return self._decoded(body)

    async def get_json(self, url: str, headers: dict[str, str], params: dict[str, str] | None = None) -> Any:
        """GET (with `params` added to the query) and return the decoded 2xx JSON body."""
        async with self._exchange("GET", url, headers, params=params) as chunks:
            body = b"".join([chunk async for chunk in chunks])
        return self._decoded(body)

    def malformed(self, reason: str) -> UpstreamError:
        """Our error for an answer that arrived whole but is not what the protocol promises;
        `reason` follows the service name ("gemini sent ...")."""
        details = {"service": self._service, "retryable": "false"}
        return UpstreamError(self._scrub(f"{self._service} {reason}")[:_MAX_MESSAGE], details=details)

    @asynccontextmanager
    async def _exchange(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        *,
        data: bytes | None = None,
        params: dict[str, str] | None = None,
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        """Send one request and give the 2xx body's chunks; the response is closed on leaving."""
        deadline = asyncio.get_running_loop().time() + self._timeouts.first_byte
        try:
            async with asyncio.timeout_at(deadline):
                response = await self._session.request(
                    method,
                    url,
                    data=data,
                    params=params or None,
                    headers=headers,
                    timeout=self._http_timeout,
                    allow_redirects=False,
                    proxy=self._proxy,
                    proxy_auth=self._proxy_auth,
                )
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise self._transport_error(exc, True) from exc
        chunks: BoundedReads | None = None
        try:
            chunks = self._chunks(response, deadline)
            if not 200 <= response.status < 300:
                error_body = b""
                async for chunk in chunks:
                    error_body += chunk
                    if len(error_body) > _MAX_ERROR_BODY:
                        break  # enough to quote; a proxy's giant error page is not worth waiting for
                raise self.error(response.status, self._parse_failure(response, error_body))
            yield chunks
        finally:
            if chunks is not None:
                chunks.close()
            if response.content.at_eof():
                response.release()  # back to the pool for the next call
            else:
                response.close()  # cut at once: the upstream must see us go (and stop billing)

    def _decoded(self, body: bytes) -> Any:
        try:
            return json_text.loads(body)
        except ValueError:
            raise self.error(None, UpstreamFailure("the response is not JSON")) from None

    def _chunks(self, response: aiohttp.ClientResponse, deadline: float) -> BoundedReads:
        # Whatever has arrived, gzip already undone; lines are split later, by the caller.
        return BoundedReads(response.content.iter_any(), deadline, self._timeouts.idle, self._transport_error)

    def _transport_error(self, exc: Exception, first: bool) -> UpstreamError:
        # Nothing received yet: the request can go again. After the first byte the upstream has
        # started (and may bill) the answer, so a retry is no longer the safe default.
        details = {"service": self._service, "retryable": _flag(first)}
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            return UpstreamTimeoutError(
                f"{self._service} did not accept a connection within {self._timeouts.connect:g}s",
                details=details,
            )
        if isinstance(exc, TimeoutError):
            if first:
                wait = f"sent no response within {self._timeouts.first_byte:g}s"
            else:
                wait = f"stalled for {self._timeouts.idle:g}s mid-response"
            return UpstreamTimeoutError(f"{self._service} {wait}", details=details)
        if isinstance(exc, aiohttp.ClientConnectorError):
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
    """What every adapter is made of: its name, whether it is simulated, its headers, its UpstreamClient;
    a `Provider` that can list its service's models too. The registry builds one per service."""

    def __init__(
        self,
        name: str,
        base_url: str,
        api_key: str | None,
        client: aiohttp.ClientSession,
        timeouts: UpstreamTimeouts,
        simulated: bool = False,
        extra_headers: dict[str, str] | None = None,
    ) -> None:
        self._name = name
        self._simulated = simulated
        self._base_url = base_url.rstrip("/")
        self._headers = {**(extra_headers or {}), **(self._auth_headers(api_key) if api_key else {})}
        self._upstream = UpstreamClient(
            name, client, timeouts, base_url=self._base_url, secret=api_key, parse_failure=self._parse_failure
        )

    @property
    def name(self) -> str:
        """The service name used in the API, e.g. `openrouter`."""
        return self._name

    @property
    def simulated(self) -> bool:
        """True when the base URL points at a built-in simulator."""
        return self._simulated

    @abc.abstractmethod
    def check(self, request: ProviderRequest) -> None:
        """Refuse, before any call, what this upstream cannot take (InvalidRequestError)."""

    @abc.abstractmethod
    async def complete(self, request: ProviderRequest) -> Completion:
        """Send a non-streaming request and return the whole answer."""

    @abc.abstractmethod
    def stream(self, request: ProviderRequest) -> AsyncGenerator[StreamEvent, None]:
        """Send a streaming request; yield TextDelta and ToolCallDelta events then exactly one StreamEnd."""

    @abc.abstractmethod
    async def embed(self, request: EmbeddingRequest) -> Embeddings:
        """Embed texts: one vector per input, in order."""

    async def list_models(self, parse: ModelListParser, *, page_size: int | None = None) -> Page:
        """Every page of the service's model list (`GET {base_url}/models`), each read by `parse`,
        gathered into one page; failures are translated as a chat call's are."""
        url, params = self._model_page(f"{self._base_url}/models", None, page_size)
        models: list[Listed] = []
        skipped: list[tuple[str, str]] = []
        seen: set[str] = set()
        for _ in range(MAX_MODEL_PAGES):
            body = await self._upstream.get_json(url, self._headers, params)
            try:
                page = parse(body)
            except ListingError as err:
                raise self._upstream.malformed(f"sent an unexpected model list: {err}") from None
            models += page.models
            skipped += page.skipped
            if page.next is None:
                return Page(models, skipped)
            if page.next in seen:
                raise self._upstream.malformed(f"repeated the model list's page cursor {page.next!r}")
            seen.add(page.next)
            url, params = self._model_page(url, page.next, page_size)
        raise self._upstream.malformed(f"listed models on more than {MAX_MODEL_PAGES} pages")

    @staticmethod
    @abc.abstractmethod
    def _auth_headers(api_key: str) -> dict[str, str]:
        """How this protocol presents the provider key."""

    @staticmethod
    @abc.abstractmethod
    def _parse_failure(response: aiohttp.ClientResponse, body: bytes) -> UpstreamFailure:
        """Read a non-2xx answer in this protocol's error shape."""

    @abc.abstractmethod
    def _model_page(self, url: str, cursor: str | None, page_size: int | None) -> tuple[str, dict[str, str]]:
        """The URL and query of the model-list page `cursor` names (None: the first page), `url`
        being the page before it (or the list's own URL)."""
