"""Each API call as data: the request to send and the parser of its answer.

The sync and the async resources are thin wrappers that send these; the REST shapes live here once.
"""

from __future__ import annotations

import base64
import datetime
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from . import _parse
from ._base import Request
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

DEVELOPER = "/v1/developer"


@dataclass(frozen=True)
class Call(Generic[T]):
    """A request and how to read its answer."""

    request: Request
    parse: Callable[[Mapping[str, Any], _parse.ResponseMeta], T]


def new_idempotency_key() -> str:
    """A fresh key: the gateway replays the stored answer when a retry sends it again."""
    return str(uuid.uuid4())


def _image(image: str | bytes) -> str:
    return base64.b64encode(image).decode("ascii") if isinstance(image, bytes | bytearray) else image


def chat_body(
    message: str,
    *,
    model: str | None,
    service: str | None,
    max_tokens: int | None,
    temperature: float | None,
    session_id: str | None,
    images: Sequence[str | bytes] | None,
    system_prompt: str | None,
) -> dict[str, Any]:
    """The JSON body of `/chat` and `/chat/stream`; unset options are left out."""
    body: dict[str, Any] = {"message": message}
    optional: dict[str, Any] = {
        "model": model,
        "service": service,
        "max_tokens": max_tokens,
        "temperature": temperature,
        "session_id": session_id,
    }
    body.update({name: value for name, value in optional.items() if value is not None})
    if images is not None:
        body["images"] = [_image(image) for image in images]
    if system_prompt is not None:
        body["context"] = {"system_prompt": system_prompt}
    return body


def chat_create(body: dict[str, Any], idempotency_key: str | None) -> Call[ChatResponse]:
    """`POST /chat`; always carries an idempotency key so that it can be retried."""
    request = Request(
        "POST", f"{DEVELOPER}/chat", json=body, idempotency_key=idempotency_key or new_idempotency_key()
    )
    return Call(request, _parse.chat_response)


def chat_stream(body: dict[str, Any], idempotency_key: str | None) -> Request:
    """`POST /chat/stream`; retried only until the stream has started."""
    return Request(
        "POST",
        f"{DEVELOPER}/chat/stream",
        json=body,
        idempotency_key=idempotency_key or new_idempotency_key(),
        stream=True,
    )


def _params(**values: str | datetime.date | None) -> dict[str, str]:
    return {name: _param(value) for name, value in values.items() if value is not None}


def _param(value: str | datetime.date) -> str:
    # A datetime is a date too: it keeps its time (and must carry its offset).
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value.strftime("%Y-%m-%d") if isinstance(value, datetime.date) else value


def models_list(service: str | None, category: str | None) -> Call[ModelList]:
    """`GET /models`."""
    params = _params(service=service, category=category)
    return Call(Request("GET", f"{DEVELOPER}/models", params=params), _parse.model_list)


def services_list() -> Call[ServiceList]:
    """`GET /services`."""
    return Call(Request("GET", f"{DEVELOPER}/services"), _parse.service_list)


def usage_get(
    period: str | None, start_date: str | datetime.date | None, end_date: str | datetime.date | None
) -> Call[UsageReport]:
    """`GET /usage`."""
    params = _params(period=period, start_date=start_date, end_date=end_date)
    return Call(Request("GET", f"{DEVELOPER}/usage", params=params), _parse.usage_report)


def usage_breakdown(
    period: str | None, start_date: str | datetime.date | None, end_date: str | datetime.date | None
) -> Call[UsageBreakdown]:
    """`GET /usage/breakdown`."""
    params = _params(period=period, start_date=start_date, end_date=end_date)
    return Call(Request("GET", f"{DEVELOPER}/usage/breakdown", params=params), _parse.usage_breakdown)


def usage_logs(
    *,
    model: str | None,
    status: str | None,
    key_id: str | None,
    start: str | datetime.date | None,
    end: str | datetime.date | None,
    page_size: int | None,
    page_token: str | None,
) -> Call[UsageLogPage]:
    """`GET /usage/logs`: one page, newest first; `start`/`end` are RFC 3339 times or dates."""
    params = _params(model=model, status=status, key_id=key_id, start=start, end=end, page_token=page_token)
    if page_size is not None:
        params["page_size"] = str(page_size)
    return Call(Request("GET", f"{DEVELOPER}/usage/logs", params=params), _parse.usage_log_page)


def quota_get() -> Call[Quota]:
    """`GET /quota`."""
    return Call(Request("GET", f"{DEVELOPER}/quota"), _parse.quota)


def api_keys_create(
    name: str,
    permissions: Sequence[str] | None,
    requests_per_minute: int | None,
    expires_at: str | datetime.datetime | None = None,
    budget: KeyBudget | None = None,
) -> Call[CreatedApiKey]:
    """`POST /api-keys` (token auth); `expires_at` an RFC 3339 time or an aware datetime."""
    body: dict[str, Any] = {"name": name}
    if permissions is not None:
        body["permissions"] = list(permissions)
    if requests_per_minute is not None:
        body["rate_limit"] = {"requests_per_minute": requests_per_minute}
    if expires_at is not None:
        body["expires_at"] = _param(expires_at)
    if budget is not None:
        body["budget"] = {"limit_usd": budget.limit_usd, "period": budget.period}
    return Call(Request("POST", f"{DEVELOPER}/api-keys", auth="token", json=body), _parse.created_api_key)


def api_keys_list() -> Call[ApiKeyList]:
    """`GET /api-keys` (token auth)."""
    return Call(Request("GET", f"{DEVELOPER}/api-keys", auth="token"), _parse.api_key_list)


def api_keys_delete(key_id: str) -> Call[DeletedApiKey]:
    """`DELETE /api-keys/{key_id}` (token auth)."""
    path = f"{DEVELOPER}/api-keys/{quote(key_id, safe='')}"
    return Call(Request("DELETE", path, auth="token"), _parse.deleted_api_key)


def api_keys_rotate(key_id: str, grace_seconds: int | None) -> Call[RotatedApiKey]:
    """`POST /api-keys/{key_id}/rotate` (token auth); no grace given: the gateway's (a day)."""
    path = f"{DEVELOPER}/api-keys/{quote(key_id, safe='')}/rotate"
    body: dict[str, Any] = {} if grace_seconds is None else {"grace_seconds": grace_seconds}
    return Call(Request("POST", path, auth="token", json=body), _parse.rotated_api_key)


def alerts_create(
    metric: str,
    *,
    threshold: float | None,
    of: str | None,
    value: float | None,
    period: str | None,
    name: str | None,
) -> Call[CreatedAlert]:
    """`POST /alerts` (token auth): a threshold of `of`, or an absolute `value` per `period`."""
    given = {"threshold": threshold, "of": of, "value": value, "period": period, "name": name}
    body: dict[str, Any] = {"metric": metric, **{k: v for k, v in given.items() if v is not None}}
    return Call(Request("POST", f"{DEVELOPER}/alerts", auth="token", json=body), _parse.created_alert)


def alerts_list() -> Call[AlertList]:
    """`GET /alerts` (token auth)."""
    return Call(Request("GET", f"{DEVELOPER}/alerts", auth="token"), _parse.alert_list)


def alerts_delete(alert_id: str) -> Call[DeletedAlert]:
    """`DELETE /alerts/{alert_id}` (token auth)."""
    path = f"{DEVELOPER}/alerts/{quote(alert_id, safe='')}"
    return Call(Request("DELETE", path, auth="token"), _parse.deleted_alert)


def auth_register(email: str, password: str) -> Call[TokenInfo]:
    """`POST /v1/auth/register`."""
    body = {"email": email, "password": password}
    return Call(Request("POST", "/v1/auth/register", auth="none", json=body), _parse.token_info)


def auth_login(email: str, password: str) -> Call[TokenInfo]:
    """`POST /v1/auth/login`."""
    body = {"email": email, "password": password}
    return Call(Request("POST", "/v1/auth/login", auth="none", json=body), _parse.token_info)


def auth_logout() -> Call[LoggedOut]:
    """`POST /v1/auth/logout` (token auth): ends the login token it is sent with."""
    return Call(Request("POST", "/v1/auth/logout", auth="token", json={}), _parse.logged_out)
