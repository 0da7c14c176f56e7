"""Usage reports, breakdowns and the request log."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..types import (
    DailyUsage,
    UsageBreakdown,
    UsageGroup,
    UsageLog,
    UsageLogPage,
    UsageReport,
)
from .fields import ResponseMeta, _float, _int, _obj, _opt_int, _opt_str, _str


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
