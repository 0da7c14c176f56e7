"""The asynchronous client, `AsyncAIHub`, and its resources: `AIHub`'s surface, awaited."""

from __future__ import annotations

import asyncio
import datetime
import os
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import TypeVar

import httpx

from . import _calls
from ._base import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    Options,
    Request,
    connection_error,
    json_body,
    retry_delay,
    status_error,
)
from ._exceptions import AIHubError
from ._parse import ResponseMeta
from ._streaming import AsyncStream
from .types import (
    AlertList,
    ApiKeyList,
    ChatResponse,
    CreatedAlert,
    CreatedApiKey,
    DeletedAlert,
    DeletedApiKey,
    KeyBudget,
    LoggedOut,
    ModelList,
    Quota,
    RotatedApiKey,
    ServiceList,
    TokenInfo,
    UsageBreakdown,
    UsageLogPage,
    UsageReport,
)

T = TypeVar("T")


class AsyncAIHub:
    """A client for the AI Hub REST API.

    `api_key` (or `AI_HUB_API_KEY`) authenticates chat, models, services, usage and quota; `token`
    (a JWT from `auth.login`) manages API keys. `base_url` defaults to `AI_HUB_BASE_URL`, then
    `http://127.0.0.1:8000`. Pass `http_client` to use your own `httpx.AsyncClient` (never closed here).
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        token: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self._options = Options.resolve(
            api_key=api_key,
            base_url=base_url,
            token=token,
            timeout=timeout,
            max_retries=max_retries,
            environ=os.environ,
        )
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.AsyncClient()
        self._sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self.chat = AsyncChat(self)
        self.models = AsyncModels(self)
        self.services = AsyncServices(self)
        self.usage = AsyncUsageResource(self)
        self.quota = AsyncQuotaResource(self)
        self.api_keys = AsyncApiKeys(self)
        self.alerts = AsyncAlerts(self)
        self.auth = AsyncAuth(self)

    @property
    def base_url(self) -> str:
        return self._options.base_url

    @property
    def api_key(self) -> str | None:
        return self._options.api_key

    @property
    def token(self) -> str | None:
        return self._options.token

    def with_token(self, token: str) -> AsyncAIHub:
        """A client that manages API keys with `token`; it shares this client's connections."""
        return self._derive(api_key=self.api_key, token=token)

    def with_api_key(self, api_key: str) -> AsyncAIHub:
        """A client that uses `api_key`; it shares this client's connections."""
        return self._derive(api_key=api_key, token=self.token)

    def _derive(self, *, api_key: str | None, token: str | None) -> AsyncAIHub:
        return AsyncAIHub(
            api_key,
            base_url=self.base_url,
            token=token,
            timeout=self._options.timeout,
            max_retries=self._options.max_retries,
            http_client=self._http,
        )

    async def aclose(self) -> None:
        """Close the connection pool, unless it was passed in as `http_client`."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncAIHub:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def _send(self, request: Request) -> httpx.Response:
        """Send `request`, retrying under the retry policy; a 2xx response or an AIHubError."""
        http_request = self._http.build_request(
            request.method,
            self._options.url(request),
            json=request.json,
            params=request.params,
            headers=self._options.headers(request),
            timeout=self._options.timeout,
        )
        attempt = 0
        while True:
            headers: httpx.Headers | None = None
            error: AIHubError
            try:
                response = await self._http.send(http_request, stream=request.stream)
                if response.is_success:
                    return response
                headers = response.headers
                await response.aread()
                await response.aclose()
                error = status_error(response)
            except httpx.RequestError as exc:
                error = connection_error(exc)
            delay = retry_delay(request, error, attempt, self._options.max_retries, headers)
            if delay is None:
                raise error
            await self._sleep(delay)
            attempt += 1

    async def _call(self, call: _calls.Call[T]) -> T:
        response = await self._send(call.request)
        return call.parse(json_body(response), ResponseMeta.from_headers(response.headers))


class _AsyncResource:
    def __init__(self, client: AsyncAIHub) -> None:
        self._client = client


class AsyncChat(_AsyncResource):
    """`/v1/developer/chat` and `/v1/developer/chat/stream`."""

    async def create(
        self,
        message: str,
        *,
        model: str | None = None,
        service: str | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        session_id: str | None = None,
        images: Sequence[str | bytes] | None = None,
        system_prompt: str | None = None,
        idempotency_key: str | None = None,
    ) -> ChatResponse:
        """Send a message and wait for the whole answer. Images are base64 text or raw bytes."""
        body = _calls.chat_body(
            message,
            model=model,
            service=service,
            max_tokens=max_tokens,
            temperature=temperature,
            session_id=session_id,
            images=images,
            system_prompt=system_prompt,
        )
        return await self._client._call(_calls.chat_create(body, idempotency_key))

    def stream(
        self,
        message: str,
        *,
        model: str | None = None,
        service: str | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        session_id: str | None = None,
        images: Sequence[str | bytes] | None = None,
        system_prompt: str | None = None,
        idempotency_key: str | None = None,
    ) -> AsyncStream:
        """Send a message and iterate the answer as it is generated; sent on `async with` or first `anext`."""
        body = _calls.chat_body(
            message,
            model=model,
            service=service,
            max_tokens=max_tokens,
            temperature=temperature,
            session_id=session_id,
            images=images,
            system_prompt=system_prompt,
        )
        request = _calls.chat_stream(body, idempotency_key)
        return AsyncStream(lambda: self._client._send(request))


class AsyncModels(_AsyncResource):
    async def list(self, service: str | None = None, category: str | None = None) -> ModelList:
        """The model catalog, optionally for one service or category (chat, completion, embedding)."""
        return await self._client._call(_calls.models_list(service, category))


class AsyncServices(_AsyncResource):
    async def list(self) -> ServiceList:
        """The AI services behind the gateway and what each can do."""
        return await self._client._call(_calls.services_list())


class AsyncUsageResource(_AsyncResource):
    async def get(
        self,
        period: str | None = None,
        start_date: str | datetime.date | None = None,
        end_date: str | datetime.date | None = None,
    ) -> UsageReport:
        """Requests, tokens and cost for a period (day, week, month, year) or a date range."""
        return await self._client._call(_calls.usage_get(period, start_date, end_date))

    async def breakdown(
        self,
        period: str | None = None,
        start_date: str | datetime.date | None = None,
        end_date: str | datetime.date | None = None,
    ) -> UsageBreakdown:
        """Requests, tokens and cost by model and by API key, over the same window as `get`."""
        return await self._client._call(_calls.usage_breakdown(period, start_date, end_date))

    async def logs(
        self,
        *,
        model: str | None = None,
        status: str | None = None,
        key_id: str | None = None,
        start: str | datetime.date | None = None,
        end: str | datetime.date | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> UsageLogPage:
        """One page of request logs, newest first (filters optional; `start` inclusive, `end`
        exclusive, RFC 3339 or a date); the page's `next_page_token` fetches the next one."""
        call = _calls.usage_logs(
            model=model,
            status=status,
            key_id=key_id,
            start=start,
            end=end,
            page_size=page_size,
            page_token=page_token,
        )
        return await self._client._call(call)


class AsyncQuotaResource(_AsyncResource):
    async def get(self) -> Quota:
        """The plan, its quota and rate limits."""
        return await self._client._call(_calls.quota_get())


class AsyncApiKeys(_AsyncResource):
    """API key management; needs a token (`client.with_token(...)`)."""

    async def create(
        self,
        name: str,
        permissions: Sequence[str] | None = None,
        requests_per_minute: int | None = None,
        expires_at: str | datetime.datetime | None = None,
        budget: KeyBudget | None = None,
    ) -> CreatedApiKey:
        """Create a key; its secret is in `.key`, shown this once. After `expires_at` (an RFC 3339
        time or an aware datetime) it is refused with `api_key_expired`. With a `budget` (USD per
        day or month) a call whose worst-case cost does not fit what is left of it is refused
        with `budget_exceeded`."""
        call = _calls.api_keys_create(name, permissions, requests_per_minute, expires_at, budget)
        return await self._client._call(call)

    async def rotate(self, key_id: str, grace_seconds: int | None = None) -> RotatedApiKey:
        """A new secret for the same key (in `.key`, shown this once); the old one keeps working
        `grace_seconds` more (default: a day; 0: it stops at once)."""
        return await self._client._call(_calls.api_keys_rotate(key_id, grace_seconds))

    async def list(self) -> ApiKeyList:
        """Every key of the account (without secrets)."""
        return await self._client._call(_calls.api_keys_list())

    async def delete(self, key_id: str) -> DeletedApiKey:
        """Delete a key; it stops working at once."""
        return await self._client._call(_calls.api_keys_delete(key_id))


class AsyncAlerts(_AsyncResource):
    """Usage alerts; needs a token (`client.with_token(...)`)."""

    async def create(
        self,
        metric: str,
        *,
        threshold: float | None = None,
        of: str | None = None,
        value: float | None = None,
        period: str | None = None,
        name: str | None = None,
    ) -> CreatedAlert:
        """Set a usage alert on the account (every key): `threshold` (0 < t <= 1) of `of`
        (`budget` for `cost_usd`, `quota` for `requests`), or an absolute `value` (USD or a
        count) per `period` (`day` or `month`). It fires once per period: the operator's webhook
        and `quota/watch` hear of it. The answer's `alert` is the new alert."""
        call = _calls.alerts_create(metric, threshold=threshold, of=of, value=value, period=period, name=name)
        return await self._client._call(call)

    async def list(self) -> AlertList:
        """The account's alerts, oldest first, each with its figures now."""
        return await self._client._call(_calls.alerts_list())

    async def delete(self, alert_id: str) -> DeletedAlert:
        """Delete an alert (`alert_not_found` if there is none of this id)."""
        return await self._client._call(_calls.alerts_delete(alert_id))


class AsyncAuth(_AsyncResource):
    async def register(self, email: str, password: str) -> TokenInfo:
        """Create an account; returns a token for managing API keys."""
        return await self._client._call(_calls.auth_register(email, password))

    async def login(self, email: str, password: str) -> TokenInfo:
        """Log in; returns a token for managing API keys."""
        return await self._client._call(_calls.auth_login(email, password))

    async def logout(self) -> LoggedOut:
        """End the login token this client sends (`with_token`): from now on the gateway refuses
        it with 401 `token_revoked`. The account's other login tokens and its API keys go on."""
        return await self._client._call(_calls.auth_logout())
