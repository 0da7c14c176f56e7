"""AIHubError -> google.rpc.Status with ErrorInfo (and RetryInfo), mapped once."""

from __future__ import annotations

import math

from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2

from aihub_core.errors import DOMAIN, AIHubError, RateLimitError

Metadata = tuple[tuple[str, str | bytes], ...]


def to_rpc_status(err: AIHubError, request_id: str) -> status_pb2.Status:
    """The rich status: ErrorInfo carries the spec's type, code and HTTP status for the shim."""
    info = error_details_pb2.ErrorInfo(
        reason=err.reason,
        domain=DOMAIN,
        metadata={
            **err.details,
            "type": err.error_type,
            "code": err.code,
            "http_status": str(err.http_status),
            "request_id": request_id,
        },
    )
    details = [info]
    if isinstance(err, RateLimitError):
        seconds = max(1, math.ceil(err.retry_after))
        details.append(error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=seconds)))
    packed = []
    for detail in details:
        holder = any_pb2.Any()
        holder.Pack(detail)
        packed.append(holder)
    return status_pb2.Status(code=err.grpc_code.value[0], message=err.message, details=packed)


def error_trailers(err: AIHubError, request_id: str) -> Metadata:
    """Trailing metadata of a failed call: the binary rich status and the request id."""
    status = to_rpc_status(err, request_id)
    return (
        ("grpc-status-details-bin", status.SerializeToString()),
        ("x-request-id", request_id),
    )
