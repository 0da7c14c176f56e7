"""Domain results -> protobuf messages (and ChatRequest -> ChatParams)."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf import timestamp_pb2

from aihub.v1 import chat_service_pb2 as chat_pb
from aihub.v1 import key_service_pb2 as key_pb
from aihub.v1 import model_service_pb2 as model_pb
from aihub.v1 import usage_service_pb2 as usage_pb
from aihub_core.catalog import CatalogModel
from aihub_core.chat.embeddings import EmbeddingOutcome
from aihub_core.chat.engine import ChatOutcome, ContentPiece
from aihub_core.chat.params import ChatParams
from aihub_core.limits.quota_watch import QuotaSnapshot
from aihub_core.limits.spend import BudgetFigures
from aihub_core.pricing import usd
from aihub_core.services.usage import BreakdownReport, QuotaReport, UsageReport
from aihub_core.store.base import ApiKeyRecord, DailyTotals, GroupTotals, UsageLogEntry


def timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    """A protobuf Timestamp of an aware datetime, in whole seconds as the spec shows times."""
    out = timestamp_pb2.Timestamp()
    out.FromDatetime(value.replace(microsecond=0))
    return out


def chat_params(request: chat_pb.ChatRequest | chat_pb.StreamChatRequest) -> ChatParams:
    """The validated parameters of a Chat or StreamChat request (they share their fields)."""
    return ChatParams(
        message=request.message,
        model=request.model.strip(),
        service=request.service.strip(),
        max_tokens=request.max_tokens if request.HasField("max_tokens") else None,
        temperature=request.temperature if request.HasField("temperature") else None,
        session_id=request.session_id,
        images=tuple(request.images),
        system_prompt=request.context.system_prompt,
    )


def content(piece: ContentPiece) -> chat_pb.ContentEvent:
    """A piece of a streamed answer, naming the model that wrote it (a fallback's, maybe)."""
    return chat_pb.ContentEvent(content=piece.text, model=piece.model.id)


def usage(outcome: ChatOutcome | EmbeddingOutcome) -> chat_pb.Usage:
    """Tokens and cost of a call."""
    return chat_pb.Usage(
        prompt_tokens=outcome.usage.prompt_tokens,
        completion_tokens=outcome.usage.completion_tokens,
        total_tokens=outcome.usage.total_tokens,
        estimated_cost_usd=outcome.cost_usd,
    )


def chat_metadata(outcome: ChatOutcome) -> chat_pb.ChatMetadata:
    return chat_pb.ChatMetadata(
        response_time_ms=outcome.response_time_ms,
        service_used=outcome.model.service,
        simulated=outcome.simulated,
        finish_reason=outcome.finish_reason,
        request_id=outcome.request_id,
    )


def chat_response(outcome: ChatOutcome) -> chat_pb.ChatResponse:
    return chat_pb.ChatResponse(
        message=outcome.text,
        model=outcome.model.qualified_id,
        session_id=outcome.session_id,
        usage=usage(outcome),
        metadata=chat_metadata(outcome),
    )


def model(entry: CatalogModel, aliases: tuple[str, ...] = ()) -> model_pb.Model:
    return model_pb.Model(
        id=entry.id,
        name=entry.name,
        description=entry.description,
        context_length=entry.context_length,
        pricing=model_pb.ModelPricing(prompt=entry.prompt_price, completion=entry.completion_price),
        capabilities=list(entry.capabilities),
        service=entry.service,
        category=entry.category,
        aliases=aliases,
    )


def spend_budget(figures: BudgetFigures) -> usage_pb.SpendBudget:
    return usage_pb.SpendBudget(
        scope=figures.scope.split(":")[0],
        period=figures.budget.period,
        limit_usd=usd(figures.budget.limit),
        spent_usd=usd(figures.spent),
        reserved_usd=usd(figures.reserved),
        resets_at=timestamp(figures.resets_at),
    )


def quota(report: QuotaReport, budgets: tuple[BudgetFigures, ...] = ()) -> usage_pb.GetQuotaResponse:
    plan = report.plan
    return usage_pb.GetQuotaResponse(
        budgets=[spend_budget(b) for b in budgets],
        plan=plan.name,
        quota_limit=report.quota_limit,
        quota_used=report.quota_used,
        quota_remaining=report.quota_remaining,
        reset_date=timestamp(report.reset_date),
        rate_limit=usage_pb.RateLimit(
            requests_per_minute=plan.requests_per_minute,
            tokens_per_minute=plan.tokens_per_minute,
            concurrent_requests=plan.concurrent_requests,
        ),
    )


def usage_report(report: UsageReport) -> usage_pb.GetUsageResponse:
    return usage_pb.GetUsageResponse(
        period=report.window.period,
        start_date=report.window.first.isoformat(),
        end_date=report.window.last.isoformat(),
        total_requests=report.total_requests,
        total_tokens=report.total_tokens,
        total_cost_usd=report.total_cost_usd,
        quota_limit=report.quota.quota_limit,
        quota_used=report.quota.quota_used,
        quota_remaining=report.quota.quota_remaining,
        daily_breakdown=[daily_usage(d) for d in report.days],
    )


def daily_usage(day: DailyTotals) -> usage_pb.DailyUsage:
    return usage_pb.DailyUsage(
        date=day.day.isoformat(), requests=day.requests, tokens=day.tokens, cost_usd=day.cost_usd
    )


def usage_breakdown(report: BreakdownReport) -> usage_pb.GetUsageBreakdownResponse:
    return usage_pb.GetUsageBreakdownResponse(
        period=report.window.period,
        start_date=report.window.first.isoformat(),
        end_date=report.window.last.isoformat(),
        by_model=[usage_group(g) for g in report.breakdown.by_model],
        by_key=[usage_group(g) for g in report.breakdown.by_key],
    )


def usage_group(group: GroupTotals) -> usage_pb.UsageGroup:
    return usage_pb.UsageGroup(
        model=group.model or "",
        key_id=group.key_id or "",
        key_name=group.key_name or "",
        requests=group.requests,
        prompt_tokens=group.prompt_tokens,
        completion_tokens=group.completion_tokens,
        total_tokens=group.tokens,
        cost_usd=usd(group.cost_pico_usd),
    )


def key_rate_limit(record: ApiKeyRecord) -> key_pb.KeyRateLimit | None:
    rpm = record.requests_per_minute
    return key_pb.KeyRateLimit(requests_per_minute=rpm) if rpm else None


def key_budget(record: ApiKeyRecord) -> key_pb.KeyBudget | None:
    if record.budget_pico_usd is None or record.budget_period is None:
        return None
    return key_pb.KeyBudget(limit_usd=usd(record.budget_pico_usd), period=record.budget_period)


def api_key(record: ApiKeyRecord) -> key_pb.ApiKey:
    out = key_pb.ApiKey(
        id=record.id,
        name=record.name,
        prefix=record.prefix,
        created_at=timestamp(record.created_at),
        permissions=list(record.permissions),
        rate_limit=key_rate_limit(record),
        budget=key_budget(record),
    )
    for name in ("last_used", "expires_at", "rotated_at"):
        value = getattr(record, name)
        if value is not None:
            getattr(out, name).CopyFrom(timestamp(value))
    return out


def quota_snapshot(snapshot: QuotaSnapshot) -> usage_pb.WatchQuotaResponse:
    budget = snapshot.budget
    return usage_pb.WatchQuotaResponse(
        budgets=[spend_budget(b) for b in snapshot.budgets],
        plan=snapshot.plan.name,
        quota_limit=snapshot.quota_limit,
        quota_used=snapshot.quota_used,
        quota_remaining=snapshot.quota_remaining,
        reset_date=timestamp(snapshot.reset_date),
        rate_limit=usage_pb.RateBudget(
            requests_per_minute=budget.requests_per_minute,
            requests_remaining=budget.requests_remaining,
            tokens_per_minute=budget.tokens_per_minute,
            tokens_remaining=budget.tokens_remaining,
            concurrent_requests=budget.concurrent_requests,
            concurrent_in_flight=budget.in_flight,
            window_reset=timestamp(datetime.fromtimestamp(budget.window_reset, UTC)),
        ),
    )


def replayed_stream(response: chat_pb.ChatResponse) -> list[chat_pb.StreamChatResponse]:
    """A stored answer as the events of a stream: the whole text at once, then session, usage, done."""
    model_id = response.model.partition(":")[2] or response.model
    return [
        chat_pb.StreamChatResponse(content=chat_pb.ContentEvent(content=response.message, model=model_id)),
        chat_pb.StreamChatResponse(session=chat_pb.SessionEvent(session_id=response.session_id)),
        chat_pb.StreamChatResponse(
            usage=chat_pb.UsageEvent(usage=response.usage, metadata=response.metadata)
        ),
        chat_pb.StreamChatResponse(done=chat_pb.DoneEvent()),
    ]


def usage_log(entry: UsageLogEntry) -> usage_pb.UsageLog:
    """One ledger row as a request log, its time to the microsecond (unlike `timestamp`)."""
    record = entry.record
    created_at = timestamp_pb2.Timestamp()
    created_at.FromDatetime(record.created_at)
    return usage_pb.UsageLog(
        request_id=record.request_id,
        created_at=created_at,
        key_id=record.key_id or "",
        key_name=entry.key_name or "",
        service=record.service,
        model=record.model,
        status=record.status,
        prompt_tokens=record.prompt_tokens,
        completion_tokens=record.completion_tokens,
        cost_usd=usd(record.cost_pico_usd),
        usage_source=record.usage_source,
        response_time_ms=record.response_time_ms,
        session_id=record.session_id or "",
    )
