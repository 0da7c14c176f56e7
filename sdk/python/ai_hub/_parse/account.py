"""Quota, API keys, the login token and usage alerts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..types import (
    Alert,
    AlertFigures,
    AlertList,
    ApiKey,
    ApiKeyList,
    CreatedAlert,
    CreatedApiKey,
    DeletedAlert,
    DeletedApiKey,
    KeyBudget,
    LoggedOut,
    Quota,
    RateLimitPolicy,
    RotatedApiKey,
    SpendBudget,
    TokenInfo,
)
from .fields import ResponseMeta, _float, _id, _int, _obj, _opt_int, _opt_str, _str, _strs


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


def logged_out(body: Mapping[str, Any], meta: ResponseMeta) -> LoggedOut:
    """`POST /auth/logout`."""
    return LoggedOut(
        user_id=_id(body, "user_id", "the logout answer"),
        expires_at=_opt_str(body, "expires_at"),
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
