"""The spec's error answer, and the one translation of a gRPC status into it.

    ApiError            an error the shim answers with: its own, or the core's translated
    from_rpc_error()    gRPC status + google.rpc details -> ApiError (done once, here)

The core puts the HTTP status, spec type and spec code in `google.rpc.ErrorInfo` metadata, so
this module keeps no second copy of the core's error table. The fallback below only covers
statuses that never went through the core's error mapping: the core unreachable, a deadline,
a bug.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType

import grpc
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2, status_pb2
from starlette.responses import JSONResponse

from aihub_http.metadata import REQUEST_ID_HEADER, MetadataPairs, response_headers

STATUS_DETAILS_KEY = "grpc-status-details-bin"
# ErrorInfo metadata keys that are not `details`: the body already has them (the core also
# sends `request_id`, which the body carries at the top level).
_INFO_KEYS = frozenset({"type", "code", "http_status", "request_id"})

# gRPC code -> (HTTP status, spec type, spec code) for statuses without ErrorInfo.
FALLBACK: Mapping[grpc.StatusCode, tuple[int, str, str]] = MappingProxyType(
    {
        grpc.StatusCode.INVALID_ARGUMENT: (400, "invalid_request_error", "invalid_parameter"),
        grpc.StatusCode.UNAUTHENTICATED: (401, "authentication_error", "invalid_api_key"),
        grpc.StatusCode.PERMISSION_DENIED: (403, "permission_error", "insufficient_permissions"),
        grpc.StatusCode.NOT_FOUND: (404, "invalid_request_error", "not_found"),
        grpc.StatusCode.ALREADY_EXISTS: (409, "invalid_request_error", "already_exists"),
        grpc.StatusCode.RESOURCE_EXHAUSTED: (429, "rate_limit_error", "rate_limit_exceeded"),
        grpc.StatusCode.UNAVAILABLE: (503, "api_error", "service_unavailable"),
        grpc.StatusCode.DEADLINE_EXCEEDED: (504, "api_error", "timeout"),
    }
)
_INTERNAL = (500, "api_error", "internal_error")

# A 5xx without ErrorInfo did not come from the core's error mapping; its gRPC message may name
# internal addresses or exceptions, so the client gets a fixed sentence instead.
_SERVER_SIDE_MESSAGES = MappingProxyType(
    {
        503: "The AI Hub core service is unavailable; try again shortly",
        504: "The AI Hub core service did not answer in time",
        500: "Internal error in the AI Hub gateway",
    }
)


class ApiError(Exception):
    """An error answer in the spec's shape, with the headers that go with it."""

    def __init__(
        self,
        status_code: int,
        error_type: str,
        code: str,
        message: str,
        *,
        details: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error_type = error_type
        self.code = code
        self.message = message
        self.details = dict(details or {})
        self.headers = dict(headers or {})

    def error_object(self) -> dict[str, object]:
        """The `error` member of the body."""
        return {"type": self.error_type, "code": self.code, "message": self.message, "details": self.details}

    def response(self, request_id: str) -> JSONResponse:
        """The whole HTTP answer."""
        body = {"error": self.error_object(), "request_id": request_id}
        headers = {**self.headers, REQUEST_ID_HEADER: request_id}
        return JSONResponse(body, status_code=self.status_code, headers=headers)


def invalid_request(
    code: str, message: str, parameter: str | None = None, status_code: int = 400
) -> ApiError:
    """One of the shim's own request errors (bad JSON, bad field, unknown field, too large)."""
    details = {} if parameter is None else {"parameter": parameter}
    return ApiError(status_code, "invalid_request_error", code, message, details=details)


def from_rpc_error(err: grpc.aio.AioRpcError) -> ApiError:
    """Translate a failed core call, carrying over its rate-limit headers and RetryInfo."""
    trailing = err.trailing_metadata()
    headers = response_headers(err.initial_metadata(), trailing)
    info, retry = _details(trailing)
    status_code, error_type, code = FALLBACK.get(err.code(), _INTERNAL)
    message = err.details() or ""
    if info is not None:
        meta = info.metadata
        status_code = _int_or(meta.get("http_status"), status_code)
        error_type = meta.get("type") or error_type
        code = meta.get("code") or code
        details = {k: v for k, v in meta.items() if k not in _INFO_KEYS}
    else:
        details = {}
        message = _SERVER_SIDE_MESSAGES.get(status_code, message) if status_code >= 500 else message
    if retry is not None:
        headers["Retry-After"] = str(retry_after_seconds(retry))
    return ApiError(status_code, error_type, code, message, details=details, headers=headers)


def retry_after_seconds(retry: error_details_pb2.RetryInfo) -> int:
    """RetryInfo's delay as whole seconds, rounded up, at least 1."""
    delay = retry.retry_delay.seconds + retry.retry_delay.nanos / 1e9
    return max(1, math.ceil(float(delay)))


def _details(
    trailing: MetadataPairs | None,
) -> tuple[error_details_pb2.ErrorInfo | None, error_details_pb2.RetryInfo | None]:
    info: error_details_pb2.ErrorInfo | None = None
    retry: error_details_pb2.RetryInfo | None = None
    for key, value in trailing or ():
        if key != STATUS_DETAILS_KEY or not isinstance(value, bytes):
            continue
        try:
            status = status_pb2.Status.FromString(value)
        except DecodeError:
            continue  # a mangled detail must not hide the status itself
        for any_detail in status.details:
            if info is None and any_detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                any_detail.Unpack(info)
            elif retry is None and any_detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
                retry = error_details_pb2.RetryInfo()
                any_detail.Unpack(retry)
    return info, retry


def _int_or(text: str | None, default: int) -> int:
    try:
        value = int(text or "")
    except ValueError:
        return default
    return value if 400 <= value <= 599 else default
