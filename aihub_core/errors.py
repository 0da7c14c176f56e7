"""The one error hierarchy of the core.

    AIHubError                      500 INTERNAL            api_error
    ├── InvalidRequestError         400 INVALID_ARGUMENT    invalid_request_error
    │   ├── NotFoundError           404 NOT_FOUND           invalid_request_error
    │   └── ConflictError           409 ALREADY_EXISTS      invalid_request_error
    ├── AuthenticationError         401 UNAUTHENTICATED     authentication_error
    ├── PermissionDeniedError       403 PERMISSION_DENIED   permission_error
    ├── RateLimitError              429 RESOURCE_EXHAUSTED  rate_limit_error
    │   └── QuotaExceededError      429 RESOURCE_EXHAUSTED  rate_limit_error
    ├── UpstreamError               502 UNAVAILABLE         api_error
    │   ├── UpstreamTimeoutError    504 DEADLINE_EXCEEDED   api_error
    │   └── UpstreamAuthError       500 INTERNAL            api_error
    └── ServiceUnavailableError     503 UNAVAILABLE         api_error

Each class knows its gRPC code, HTTP status, the spec's error type and a default spec error
code. The gRPC boundary (`grpc_api/errors.py`) sends all of it in `google.rpc.ErrorInfo`, so the
REST shim derives the HTTP answer from the wire and never keeps a second table.

Every code is listed once, with its type and status, in the contract: the `ErrorReason` enum of
`proto/aihub/v1/error_reason.proto`, read here into `CODES`. An error refuses a code that is not
there, or one whose type and status are not its class's.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar, Self

import grpc

from aihub.v1 import error_reason_pb2

DOMAIN = "aihub.dev"
REASON_PREFIX = "ERROR_REASON_"


def _contract_codes() -> Mapping[str, tuple[str, int]]:
    """Every spec error code of the contract's `ErrorReason` -> its (error type, HTTP status)."""
    table: dict[str, tuple[str, int]] = {}
    for value in error_reason_pb2.ErrorReason.DESCRIPTOR.values:
        if value.number == error_reason_pb2.ERROR_REASON_UNSPECIFIED:
            continue
        options = value.GetOptions()
        code = value.name.removeprefix(REASON_PREFIX).lower()
        table[code] = (
            options.Extensions[error_reason_pb2.error_type],
            options.Extensions[error_reason_pb2.http_status],
        )
    return MappingProxyType(table)


CODES = _contract_codes()


class AIHubError(Exception):
    """Base of every error the gateway reports to a caller."""

    grpc_code: ClassVar[grpc.StatusCode] = grpc.StatusCode.INTERNAL
    http_status: ClassVar[int] = 500
    error_type: ClassVar[str] = "api_error"
    default_code: ClassVar[str] = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        suggestion: str | None = None,
        details: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        if CODES.get(self.code) != (self.error_type, self.http_status):
            raise ValueError(
                f"{type(self).__name__} cannot carry the code {self.code!r}: {_listed(self.code)}"
            )
        self.details: dict[str, str] = dict(details or {})
        if param is not None:
            self.details["parameter"] = param
        if suggestion is not None:
            self.details["suggestion"] = suggestion
        self.response_metadata: tuple[tuple[str, str], ...] = ()

    def with_metadata(self, metadata: tuple[tuple[str, str], ...]) -> Self:
        """Attach metadata to send with the error (e.g. the X-RateLimit-* figures of a 429)."""
        self.response_metadata = metadata
        return self

    @property
    def reason(self) -> str:
        """The AIP-193 `ErrorInfo.reason`: the spec error code in UPPER_SNAKE_CASE."""
        return self.code.upper()


class InvalidRequestError(AIHubError):
    """A field is missing, malformed or out of range."""

    grpc_code = grpc.StatusCode.INVALID_ARGUMENT
    http_status = 400
    error_type = "invalid_request_error"
    default_code = "invalid_parameter"


class NotFoundError(InvalidRequestError):
    """The named model, service, key or session does not exist (for this caller)."""

    grpc_code = grpc.StatusCode.NOT_FOUND
    http_status = 404
    default_code = "not_found"


class ConflictError(InvalidRequestError):
    """The thing to create exists already."""

    grpc_code = grpc.StatusCode.ALREADY_EXISTS
    http_status = 409
    default_code = "already_exists"


class AuthenticationError(AIHubError):
    """Missing, malformed, unknown, deleted or expired credentials."""

    grpc_code = grpc.StatusCode.UNAUTHENTICATED
    http_status = 401
    error_type = "authentication_error"
    default_code = "invalid_api_key"


class PermissionDeniedError(AIHubError):
    """The credentials are valid but do not allow this call."""

    grpc_code = grpc.StatusCode.PERMISSION_DENIED
    http_status = 403
    error_type = "permission_error"
    default_code = "insufficient_permissions"


class RateLimitError(AIHubError):
    """A rate limit refused the request; `retry_after` says when to try again (seconds)."""

    grpc_code = grpc.StatusCode.RESOURCE_EXHAUSTED
    http_status = 429
    error_type = "rate_limit_error"
    default_code = "rate_limit_exceeded"

    def __init__(self, message: str, *, retry_after: float, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = max(0.0, retry_after)


class QuotaExceededError(RateLimitError):
    """The plan's monthly request quota is used up."""

    default_code = "quota_exceeded"


class UpstreamError(AIHubError):
    """The upstream provider failed or answered with something unusable."""

    grpc_code = grpc.StatusCode.UNAVAILABLE
    http_status = 502
    default_code = "upstream_error"


class UpstreamTimeoutError(UpstreamError):
    """The upstream provider did not connect, start or continue in time."""

    grpc_code = grpc.StatusCode.DEADLINE_EXCEEDED
    http_status = 504
    default_code = "upstream_timeout"


class UpstreamAuthError(UpstreamError):
    """The provider refused the gateway's own provider key: an operator problem, never the user's 401."""

    grpc_code = grpc.StatusCode.INTERNAL
    http_status = 500
    default_code = "upstream_auth_failed"


class ServiceUnavailableError(AIHubError):
    """The gateway is shutting down or a dependency it needs is down."""

    grpc_code = grpc.StatusCode.UNAVAILABLE
    http_status = 503
    default_code = "service_unavailable"


def all_error_classes() -> list[type[AIHubError]]:
    """Every class of the hierarchy, base first."""
    found: list[type[AIHubError]] = [AIHubError]
    for cls in found:
        found.extend(cls.__subclasses__())
    return found


def _listed(code: str) -> str:
    if code not in CODES:
        return "it is not in the contract's ErrorReason (proto/aihub/v1/error_reason.proto)"
    error_type, status = CODES[code]
    return f"the contract lists it as {status} {error_type}"


class ConfigError(ValueError):
    """The process configuration (flags, environment, AIHUB_CONFIG) is unusable; the message says
    why. Outside the tree above: it stops a start and is never an answer to a call."""
