"""Chat answers, the model catalogue and the services."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..types import (
    ChatMetadata,
    ChatResponse,
    Model,
    ModelList,
    ModelPricing,
    ServiceList,
    Usage,
)
from .fields import ResponseMeta, _float, _id, _int, _obj, _opt_int, _opt_str, _str, _strs


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
