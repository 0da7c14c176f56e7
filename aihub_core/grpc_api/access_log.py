"""The access log of calls that arrive over gRPC: one line per call on `aihub.access` at INFO.

Calls the REST shim makes in process are left out: the shim writes its own line for the HTTP
request (with the same request id). A line holds the request id, the method, the gRPC status and
the error code, the latency, and for a model call the model, its token counts and its cost;
never metadata, so no key, no login token and no prompt.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from aihub.v1 import chat_service_pb2
from aihub_core.errors import AIHubError
from aihub_core.grpc_api.gate import Call

log = logging.getLogger("aihub.access")


def enabled(call: Call) -> bool:
    """Whether this call gets a line: it came over the network and INFO is on."""
    return call.remote and log.isEnabledFor(logging.INFO)


def note(call: Call, message: Any) -> None:
    """Keep what a response message says of the call's model and usage."""
    if isinstance(message, chat_service_pb2.ChatResponse):
        call.usage = (message.model, message.usage)
    elif isinstance(message, chat_service_pb2.StreamChatResponse):
        kind = message.WhichOneof("event")
        if kind == "content":
            call.usage = (message.content.model, None)
        elif kind == "usage":
            model = call.usage[0] if call.usage else ""
            call.usage = (f"{message.usage.metadata.service_used}:{model}", message.usage.usage)


def outcome(err: BaseException) -> tuple[str, str]:
    """The gRPC status name and error code a failed call ends with."""
    if isinstance(err, AIHubError):
        return err.grpc_code.name, err.code
    return "INTERNAL", "internal_error"


def log_call(call: Call, servicer: object, method: str, status: str, code: str = "") -> None:
    """Write the call's line."""
    fields: dict[str, object] = {
        "request_id": call.request_id,
        "method": f"/{_service_of(servicer)}/{method}",
        "status": status,
        "latency_ms": round((time.perf_counter() - call.started) * 1000, 1),
    }
    if code:
        fields["code"] = code
    if call.usage is not None and call.usage[1] is not None:
        model, usage = call.usage
        fields["model"] = model
        fields["prompt_tokens"] = usage.prompt_tokens
        fields["completion_tokens"] = usage.completion_tokens
        fields["cost_usd"] = usage.estimated_cost_usd
    log.info("grpc call", extra={"fields": fields})


def _service_of(servicer: object) -> str:
    # Each servicer subclasses its generated base, `<Name>ServiceServicer` of package aihub.v1.
    for base in type(servicer).__mro__:
        if base.__name__.endswith("ServiceServicer"):
            return "aihub.v1." + base.__name__.removesuffix("Servicer")
    return type(servicer).__name__
