"""The synchronous client, `AIHub`, and its resources."""

from __future__ import annotations

import datetime
import os
import time
from collections.abc import Callable, Sequence
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
from ._streaming import Stream
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


class AIHub:
    """A client for the AI Hub REST API.

    `api_key` (or `AI_HUB_API_KEY`) authenticates chat, models, services, usage and quota; `token`
    (a JWT from `auth.login`) manages API keys. `base_url` defaults to `AI_HUB_BASE_URL`, then
    `http://127.0.0.1:8000`. Pass `http_client` to use your own `httpx.Client` (never closed here).
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        token: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
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
        self._http = http_client if http_client is not None else httpx.Client()
        self._sleep: Callable[[float], None] = time.sleep
        self.chat = Chat(self)
        self.models = Models(self)
        self.services = Services(self)
        self.usage = UsageResource(self)
        self.quota = QuotaResource(self)
        self.api_keys = ApiKeys(self)
        self.alerts = Alerts(self)
        self.auth = Auth(self)

    @property
    def base_url(self) -> str:
        return self._options.base_url

    @property
    def api_key(self) -> str | None:
        return self._options.api_key

    @property
    def token(self) -> str | None:
        return self._options.token

    def with_token(self, token: str) -> AIHub:
        """A client that manages API keys with `token`; it shares this client's connections."""
        return self._derive(api_key=self.api_key, token=token)

    def with_api_key(self, api_key: str) -> AIHub:
        """A client that uses `api_key`; it shares this client's connections."""
        return self._derive(api_key=api_key, token=self.token)

    def _derive(self, *, api_key: str | None, token: str | None) -> AIHub:
        return AIHub(
            api_key,
            base_url=self.base_url,
            token=token,
            timeout=self._options.timeout,
            max_retries=self._options.max_retries,
            http_client=self._http,
        )

    def close(self) -> None:
        """Close the connection pool, unless it was passed in as `http_client`."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> AIHub:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _send(self, request: Request) -> httpx.Response:
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
                response = self._http.send(http_request, stream=request.stream)
                if response.is_success:
                    return response
                headers = response.headers
                response.read()
                response.close()
                error = status_error(response)
            except httpx.RequestError as exc:
                error = connection_error(exc)
            delay = retry_delay(request, error, attempt, self._options.max_retries, headers)
            if delay is None:
                raise error
            self._sleep(delay)
            attempt += 1

    def _call(self, call: _calls.Call[T]) -> T:
        response = self._send(call.request)
        return call.parse(json_body(response), ResponseMeta.from_headers(response.headers))


class _Resource:
    def __init__(self, client: AIHub) -> None:
        self._client = client


class Chat(_Resource):
    """`/v1/developer/chat` and `/v1/developer/chat/stream`."""

    def create(
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
        return self._client._call(_calls.chat_create(body, idempotency_key))

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
    ) -> Stream:
        """Send a message and iterate the answer as it is generated; sent on `with` or first `next`."""
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
        return Stream(lambda: self._client._send(request))


class Models(_Resource):
    def list(self, service: str | None = None, category: str | None = None) -> ModelList:
        """The model catalog, optionally for one service or category (chat, completion, embedding)."""
        return self._client._call(_calls.models_list(service, category))


class Services(_Resource):
    def list(self) -> ServiceList:
        """The AI services behind the gateway and what each can do."""
        return self._client._call(_calls.services_list())


class UsageResource(_Resource):
    def get(
        self,
        period: str | None = None,
        start_date: str | datetime.date | None = None,
        end_date: str | datetime.date | None = None,
    ) -> UsageReport:
        """Requests, tokens and cost for a period (day, week, month, year) or a date range."""
        return self._client._call(_calls.usage_get(period, start_date, end_date))

    def breakdown(
        self,
        period: str | None = None,
        start_date: str | datetime.date | None = None,
        end_date: str | datetime.date | None = None,
    ) -> UsageBreakdown:
        """Requests, tokens and cost by model and by API key, over the same window as `get`."""
        return self._client._call(_calls.usage_breakdown(period, start_date, end_date))

    def logs(
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
        return self._client._call(call)


class QuotaResource(_Resource):
    def get(self) -> Quota:
        """The plan, its quota and rate limits."""
        return self._client._call(_calls.quota_get())


class ApiKeys(_Resource):
    """API key management; needs a token (`client.with_token(...)`)."""

    def create(
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
        return self._client._call(call)

    def rotate(self, key_id: str, grace_seconds: int | None = None) -> RotatedApiKey:
        """A new secret for the same key (in `.key`, shown this once); the old one keeps working
        `grace_seconds` more (default: a day; 0: it stops at once)."""
        return self._client._call(_calls.api_keys_rotate(key_id, grace_seconds))

    def list(self) -> ApiKeyList:
        """Every key of the account (without secrets)."""
        return self._client._call(_calls.api_keys_list())

    def delete(self, key_id: str) -> DeletedApiKey:
        """Delete a key; it stops working at once."""
        return self._client._call(_calls.api_keys_delete(key_id))


class Alerts(_Resource):
    """Usage alerts; needs a token (`client.with_token(...)`)."""

    def create(
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
        return self._client._call(call)

    def list(self) -> AlertList:
        """The account's alerts, oldest first, each with its figures now."""
        return self._client._call(_calls.alerts_list())

    def delete(self, alert_id: str) -> DeletedAlert:
        """Delete an alert (`alert_not_found` if there is none of this id)."""
        return self._client._call(_calls.alerts_delete(alert_id))


class Auth(_Resource):
    def register(self, email: str, password: str) -> TokenInfo:
        """Create an account; returns a token for managing API keys."""
        return self._client._call(_calls.auth_register(email, password))

    def login(self, email: str, password: str) -> TokenInfo:
        """Log in; returns a token for managing API keys."""
        return self._client._call(_calls.auth_login(email, password))

    def logout(self) -> LoggedOut:
        """End the login token this client sends (`with_token`): from now on the gateway refuses
        it with 401 `token_revoked`. The account's other login tokens and its API keys go on."""
        return self._client._call(_calls.auth_logout())
