"""Decoded JSON bodies and headers -> the dataclasses of `types`.

Readers are lenient about optional fields (a missing count is 0, a missing text None) so an older
or newer gateway still parses, and strict about the few fields an answer is meaningless without.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ._exceptions import APIError
from .types import (
    Alert,
    AlertFigures,
    AlertList,
    ApiKey,
    ApiKeyList,
    ChatMetadata,
    ChatResponse,
    CreatedAlert,
    CreatedApiKey,
    DailyUsage,
    DeletedAlert,
    DeletedApiKey,
    KeyBudget,
    Model,
    ModelList,
    ModelPricing,
    Quota,
    RateLimit,
    RateLimitPolicy,
    RotatedApiKey,
    ServiceList,
    SpendBudget,
    TokenInfo,
    Usage,
    UsageBreakdown,
    UsageGroup,
    UsageLog,
    UsageLogPage,
    UsageReport,
)


@dataclass(frozen=True)
class ResponseMeta:
    """What an answer's headers say about it."""

    request_id: str | None = None
    rate_limit: RateLimit | None = None

    @classmethod
    def from_headers(cls, headers: httpx.Headers) -> ResponseMeta:
        values = [_header_int(headers.get(name)) for name in _RATE_LIMIT_HEADERS]
        rate_limit = RateLimit(*values) if any(v is not None for v in values) else None
        return cls(request_id=headers.get("x-request-id"), rate_limit=rate_limit)


_RATE_LIMIT_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")


def _header_int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _opt_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _str(data: Mapping[str, Any], key: str, what: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise APIError(f"Unexpected answer from the gateway: {what} has no {key!r}", error_type="api_error")
    return value


def _id(data: Mapping[str, Any], key: str, what: str) -> str:
    value = data.get(key)
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else _str(data, key, what)


def _opt_int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _int(data: Mapping[str, Any], key: str) -> int:
    return _opt_int(data, key) or 0


def _float(data: Mapping[str, Any], key: str) -> float:
    value = data.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _strs(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key)
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def usage(data: Any) -> Usage:
    """A usage object (the chat answer's or a stream's usage event)."""
    d = _obj(data)
    return Usage(
        prompt_tokens=_int(d, "prompt_tokens"),
        completion_tokens=_int(d, "completion_tokens"),
        total_tokens=_int(d, "total_tokens"),
        estimated_cost_usd=_float(d, "estimated_cost_usd"),
    )


def chat_metadata(data: Any) -> ChatMetadata:
    """The `metadata` object of a chat answer or usage event."""
    d = _obj(data)
    return ChatMetadata(
        response_time_ms=_opt_int(d, "response_time_ms"),
        service_used=_opt_str(d, "service_used"),
        simulated=d.get("simulated") is True,
        finish_reason=_opt_str(d, "finish_reason"),
        request_id=_opt_str(d, "request_id"),
        raw=dict(d),
    )


def chat_response(body: Mapping[str, Any], meta: ResponseMeta) -> ChatResponse:
    """`POST /chat`."""
    return ChatResponse(
        message=_str(body, "message", "the chat answer"),
        model=_opt_str(body, "model") or "",
        session_id=_opt_str(body, "session_id"),
        usage=usage(body.get("usage")),
        metadata=chat_metadata(body.get("metadata")),
        request_id=meta.request_id or _opt_str(_obj(body.get("metadata")), "request_id"),
        rate_limit=meta.rate_limit,
        raw=body,
    )


def _model(data: Any) -> Model:
    d = _obj(data)
    pricing = _obj(d.get("pricing"))
    model_id = _id(d, "id", "a model")
    return Model(
        id=model_id,
        name=_opt_str(d, "name") or model_id,
        description=_opt_str(d, "description") or "",
        context_length=_opt_int(d, "context_length"),
        pricing=ModelPricing(prompt=_float(pricing, "prompt"), completion=_float(pricing, "completion")),
        capabilities=_strs(d, "capabilities"),
        service=_opt_str(d, "service"),
        category=_opt_str(d, "category"),
        aliases=_strs(d, "aliases"),
        raw=dict(d),
    )


def model_list(body: Mapping[str, Any], meta: ResponseMeta) -> ModelList:
    """`GET /models`."""
    raw_models = body.get("models")
    models = tuple(_model(m) for m in raw_models) if isinstance(raw_models, list) else ()
    total = _opt_int(body, "total_count")
    return ModelList(
        models=models,
        total_count=len(models) if total is None else total,
        service=_opt_str(body, "service"),
        next_page_token=_opt_str(body, "next_page_token") or "",
        request_id=meta.request_id,
        raw=body,
    )


def service_list(body: Mapping[str, Any], meta: ResponseMeta) -> ServiceList:
    """`GET /services`."""
    capabilities = {str(k): dict(_obj(v)) for k, v in _obj(body.get("capabilities")).items()}
    return ServiceList(
        services=_strs(body, "services"),
        default=_opt_str(body, "default"),
        capabilities=capabilities,
        simulated={str(k): v for k, v in _obj(body.get("simulated")).items() if isinstance(v, bool)},
        request_id=meta.request_id,
        raw=body,
    )


def usage_report(body: Mapping[str, Any], meta: ResponseMeta) -> UsageReport:
    """`GET /usage`."""
    days = body.get("daily_breakdown")
    breakdown = tuple(
        DailyUsage(
            date=_opt_str(_obj(day), "date") or "",
            requests=_int(_obj(day), "requests"),
            tokens=_int(_obj(day), "tokens"),
            cost_usd=_float(_obj(day), "cost_usd"),
        )
        for day in (days if isinstance(days, list) else ())
    )
    return UsageReport(
        period=_opt_str(body, "period"),
        total_requests=_int(body, "total_requests"),
        total_tokens=_int(body, "total_tokens"),
        total_cost_usd=_float(body, "total_cost_usd"),
        start_date=_opt_str(body, "start_date"),
        end_date=_opt_str(body, "end_date"),
        quota_limit=_opt_int(body, "quota_limit"),
        quota_used=_opt_int(body, "quota_used"),
        quota_remaining=_opt_int(body, "quota_remaining"),
        daily_breakdown=breakdown,
        request_id=meta.request_id,
        raw=body,
    )


def usage_breakdown(body: Mapping[str, Any], meta: ResponseMeta) -> UsageBreakdown:
    """`GET /usage/breakdown`."""

    def groups(name: str) -> tuple[UsageGroup, ...]:
        found = body.get(name)
        return tuple(_usage_group(_obj(g)) for g in (found if isinstance(found, list) else ()))

    return UsageBreakdown(
        period=_opt_str(body, "period"),
        start_date=_opt_str(body, "start_date"),
        end_date=_opt_str(body, "end_date"),
        by_model=groups("by_model"),
        by_key=groups("by_key"),
        request_id=meta.request_id,
        raw=body,
    )


def _usage_group(data: Mapping[str, Any]) -> UsageGroup:
    return UsageGroup(
        model=_opt_str(data, "model") or "",
        key_id=_opt_str(data, "key_id") or "",
        key_name=_opt_str(data, "key_name") or "",
        requests=_int(data, "requests"),
        prompt_tokens=_int(data, "prompt_tokens"),
        completion_tokens=_int(data, "completion_tokens"),
        total_tokens=_int(data, "total_tokens"),
        cost_usd=_float(data, "cost_usd"),
    )


def usage_log_page(body: Mapping[str, Any], meta: ResponseMeta) -> UsageLogPage:
    """`GET /usage/logs`."""
    entries = body.get("logs")
    logs = tuple(_usage_log(_obj(entry)) for entry in (entries if isinstance(entries, list) else ()))
    return UsageLogPage(
        logs=logs,
        next_page_token=_opt_str(body, "next_page_token") or "",
        request_id=meta.request_id,
        raw=body,
    )


def _usage_log(data: Mapping[str, Any]) -> UsageLog:
    return UsageLog(
        request_id=_str(data, "request_id", "a usage log"),
        created_at=_opt_str(data, "created_at"),
        key_id=_opt_str(data, "key_id") or "",
        key_name=_opt_str(data, "key_name") or "",
        service=_opt_str(data, "service") or "",
        model=_opt_str(data, "model") or "",
        status=_opt_str(data, "status") or "",
        prompt_tokens=_int(data, "prompt_tokens"),
        completion_tokens=_int(data, "completion_tokens"),
        cost_usd=_float(data, "cost_usd"),
        usage_source=_opt_str(data, "usage_source") or "",
        response_time_ms=_int(data, "response_time_ms"),
        session_id=_opt_str(data, "session_id") or "",
    )


def _policy(data: Any) -> RateLimitPolicy:
    d = _obj(data)
    return RateLimitPolicy(
        requests_per_minute=_opt_int(d, "requests_per_minute"),
        tokens_per_minute=_opt_int(d, "tokens_per_minute"),
        concurrent_requests=_opt_int(d, "concurrent_requests"),
    )


def quota(body: Mapping[str, Any], meta: ResponseMeta) -> Quota:
    """`GET /quota`."""
    return Quota(
        plan=_opt_str(body, "plan") or "",
        quota_limit=_opt_int(body, "quota_limit"),
        quota_used=_int(body, "quota_used"),
        quota_remaining=_opt_int(body, "quota_remaining"),
        reset_date=_opt_str(body, "reset_date"),
        rate_limit=_policy(body.get("rate_limit")),
        budgets=tuple(_spend_budget(b) for b in body.get("budgets") or () if isinstance(b, Mapping)),
        request_id=meta.request_id,
        raw=body,
    )


def _spend_budget(body: Mapping[str, Any]) -> SpendBudget:
    return SpendBudget(
        scope=_opt_str(body, "scope") or "",
        period=_opt_str(body, "period") or "",
        limit_usd=_float(body, "limit_usd"),
        spent_usd=_float(body, "spent_usd"),
        reserved_usd=_float(body, "reserved_usd"),
        resets_at=_opt_str(body, "resets_at"),
    )


def _key_budget(body: object) -> KeyBudget | None:
    if not isinstance(body, Mapping):
        return None
    return KeyBudget(limit_usd=_float(body, "limit_usd"), period=_opt_str(body, "period") or "")


def _api_key_fields(body: Mapping[str, Any], meta: ResponseMeta) -> dict[str, Any]:
    return dict(
        id=_id(body, "id", "an API key"),
        name=_opt_str(body, "name") or "",
        created_at=_opt_str(body, "created_at"),
        permissions=_strs(body, "permissions"),
        last_used=_opt_str(body, "last_used"),
        rate_limit=_policy(body["rate_limit"]) if isinstance(body.get("rate_limit"), Mapping) else None,
        prefix=_opt_str(body, "prefix"),
        expires_at=_opt_str(body, "expires_at"),
        rotated_at=_opt_str(body, "rotated_at"),
        budget=_key_budget(body.get("budget")),
        request_id=meta.request_id,
        raw=body,
    )


def api_key(body: Mapping[str, Any], meta: ResponseMeta) -> ApiKey:
    """Each entry of `GET /api-keys`."""
    return ApiKey(**_api_key_fields(body, meta))


def created_api_key(body: Mapping[str, Any], meta: ResponseMeta) -> CreatedApiKey:
    """`POST /api-keys`: the key with its secret."""
    return CreatedApiKey(**_api_key_fields(body, meta), key=_str(body, "key", "the created key"))


def rotated_api_key(body: Mapping[str, Any], meta: ResponseMeta) -> RotatedApiKey:
    """`POST /api-keys/{key_id}/rotate`: the key with its new secret."""
    return RotatedApiKey(
        **_api_key_fields(body, meta),
        key=_str(body, "key", "the rotated key"),
        previous_key_expires_at=_opt_str(body, "previous_key_expires_at"),
    )


def api_key_list(body: Mapping[str, Any], meta: ResponseMeta) -> ApiKeyList:
    """`GET /api-keys`."""
    entries = body.get("api_keys")
    keys = tuple(api_key(_obj(k), ResponseMeta()) for k in (entries if isinstance(entries, list) else ()))
    total = _opt_int(body, "total_count")
    return ApiKeyList(
        api_keys=keys,
        total_count=len(keys) if total is None else total,
        next_page_token=_opt_str(body, "next_page_token") or "",
        request_id=meta.request_id,
        raw=body,
    )


def deleted_api_key(body: Mapping[str, Any], meta: ResponseMeta) -> DeletedApiKey:
    """`DELETE /api-keys/{key_id}`."""
    return DeletedApiKey(
        id=_id(body, "id", "the deleted key"),
        deleted=body.get("deleted") is True,
        request_id=meta.request_id,
        raw=body,
    )


def token_info(body: Mapping[str, Any], meta: ResponseMeta) -> TokenInfo:
    """`POST /auth/register` and `POST /auth/login`."""
    return TokenInfo(
        user_id=_id(body, "user_id", "the login answer"),
        email=_opt_str(body, "email") or "",
        token=_str(body, "token", "the login answer"),
        expires_at=_opt_str(body, "expires_at"),
        role=_opt_str(body, "role") or "user",
        request_id=meta.request_id,
        raw=body,
    )


def created_alert(body: Mapping[str, Any], meta: ResponseMeta) -> CreatedAlert:
    """`POST /alerts`: `{"alert": ...}`."""
    return CreatedAlert(alert=_alert(_obj(body.get("alert"))), request_id=meta.request_id, raw=body)


def _alert(data: Mapping[str, Any]) -> Alert:
    current = _obj(data.get("current"))
    return Alert(
        id=_id(data, "id", "an alert"),
        name=_opt_str(data, "name") or "",
        metric=_opt_str(data, "metric") or "",
        threshold=_float(data, "threshold"),
        of=_opt_str(data, "of") or "",
        value=_float(data, "value"),
        period=_opt_str(data, "period") or "",
        created_at=_opt_str(data, "created_at"),
        last_fired_at=_opt_str(data, "last_fired_at"),
        current=AlertFigures(observed=_float(current, "observed"), limit=_float(current, "limit")),
        raw=data,
    )


def alert_list(body: Mapping[str, Any], meta: ResponseMeta) -> AlertList:
    """`GET /alerts`."""
    entries = body.get("alerts")
    alerts = tuple(_alert(_obj(a)) for a in (entries if isinstance(entries, list) else ()))
    return AlertList(alerts=alerts, request_id=meta.request_id, raw=body)


def deleted_alert(body: Mapping[str, Any], meta: ResponseMeta) -> DeletedAlert:
    """`DELETE /alerts/{alert_id}`."""
    return DeletedAlert(
        id=_id(body, "id", "the deleted alert"),
        deleted=body.get("deleted") is True,
        request_id=meta.request_id,
        raw=body,
    )
