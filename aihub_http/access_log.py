"""The access log: one line per HTTP request, on the `aihub.access` logger at INFO.

A line holds the request id, method, route template, status and latency, and for a model call
the model, its token counts and its cost, which the endpoint notes from the core's answer
(`note_usage`). It never holds a header, a query string, a body or a path parameter: so no key,
no login token and no prompt. Nothing is gathered or formatted when INFO is off for the logger.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.types import Scope

from aihub_http.request_ids import scope_request_id

log = logging.getLogger("aihub.access")

USAGE_KEY = "aihub.usage"


def note_usage(scope: Scope, model: str, usage: Any) -> None:
    """Keep the model and the `Usage` message of the call that answers this request."""
    scope[USAGE_KEY] = (model, usage)


def log_request(scope: Scope, route: str, status: int, seconds: float) -> None:
    """Write the request's line, if INFO is on for the access log."""
    if not log.isEnabledFor(logging.INFO):
        return
    fields: dict[str, object] = {
        "request_id": scope_request_id(scope),
        "method": scope["method"],
        "route": route,
        "status": status,
        "latency_ms": round(seconds * 1000, 1),
    }
    noted = scope.get(USAGE_KEY)
    if noted is not None:
        model, usage = noted
        fields["model"] = model
        fields["prompt_tokens"] = usage.prompt_tokens
        fields["completion_tokens"] = usage.completion_tokens
        fields["cost_usd"] = usage.estimated_cost_usd
    log.info("http request", extra={"fields": fields})
