"""What every operation shares: error responses from the contract's `ErrorReason`, the response
headers, the security schemes and the `Idempotency-Key` header."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from aihub.v1 import error_reason_pb2

Schema = dict[str, Any]

REASON_PREFIX = "ERROR_REASON_"
# Statuses no documented operation answers with: the path and method exist.
_NOT_FOR_OPERATIONS = frozenset({405})

SECURITY_SCHEMES: Mapping[str, Schema] = MappingProxyType(
    {
        "ApiKey": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "ai-hub-<43 letters and digits>",
            "description": "An API key: `Authorization: Bearer ai-hub-...`, created with "
            "`POST /v1/developer/api-keys`. Its permissions (`chat`, `models`, `usage`) decide "
            "which calls it may make.",
        },
        "LoginToken": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "The login token (a JWT) from `POST /v1/auth/register` or "
            "`POST /v1/auth/login`: `Authorization: Bearer <token>`. It manages API keys.",
        },
    }
)

_INTEGER: Schema = {"type": "integer"}
COMPONENT_HEADERS: Mapping[str, Schema] = MappingProxyType(
    {
        "X-Request-ID": {
            "description": "The request's id (the usage ledger's key): quote it when reporting a problem.",
            "required": True,
            "schema": {"type": "string", "pattern": "^req_[0-9a-f]{24}$"},
        },
        "X-RateLimit-Limit": {
            "description": "Requests per minute allowed: the lower of the plan's and the key's.",
            "schema": _INTEGER,
        },
        "X-RateLimit-Remaining": {"description": "Requests left in this minute.", "schema": _INTEGER},
        "X-RateLimit-Reset": {
            "description": "When the minute's window ends, in Unix epoch seconds.",
            "schema": _INTEGER,
        },
        "Retry-After": {
            "description": "Seconds to wait before retrying.",
            "required": True,
            "schema": _INTEGER,
        },
    }
)

IDEMPOTENCY_KEY: Schema = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Repeating a call with the same key (1 to 255 visible ASCII characters) answers "
    "with the first call's stored answer instead of calling the model again; a different request "
    "under a used key is a 400 `idempotency_key_reused`.",
    "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"},
}

_RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def _header_refs(*names: str) -> dict[str, Schema]:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def success_headers(credential: str) -> dict[str, Schema]:
    """The headers of a successful answer: the request id, and the rate-limit figures of an
    API-key-authenticated one."""
    counted = credential in ("api_key", "api_key_or_jwt")
    return _header_refs("X-Request-ID", *(_RATE_HEADERS if counted else ()))


def contract_codes() -> dict[int, list[tuple[str, str, str]]]:
    """HTTP status -> [(code, error type, proto name)] for every reason of the contract."""
    by_status: dict[int, list[tuple[str, str, str]]] = {}
    for value in error_reason_pb2.ErrorReason.DESCRIPTOR.values:
        if value.number == error_reason_pb2.ERROR_REASON_UNSPECIFIED:
            continue
        options = value.GetOptions()
        status = options.Extensions[error_reason_pb2.http_status]
        code = value.name.removeprefix(REASON_PREFIX).lower()
        by_status.setdefault(status, []).append(
            (code, options.Extensions[error_reason_pb2.error_type], value.name)
        )
    return dict(sorted(by_status.items()))


def error_components(comments: Mapping[str, str]) -> tuple[dict[str, Schema], dict[str, Schema]]:
    """(schemas, responses): `Error`, and per status an `ErrorNNN` body whose `code` is one of
    that status's codes, described code by code."""
    schemas: dict[str, Schema] = {"Error": _error_schema(None, None)}
    responses: dict[str, Schema] = {}
    for status, codes in contract_codes().items():
        types = sorted({error_type for _, error_type, _ in codes})
        schemas[f"Error{status}"] = _error_schema([code for code, _, _ in codes], types)
        lines = [f"- `{code}`: {comments.get('aihub.v1.' + name, '')}" for code, _, name in codes]
        headers = _header_refs("X-Request-ID", *_RATE_HEADERS)
        if status == 429:
            headers.update(_header_refs("Retry-After"))
        responses[f"Error{status}"] = {
            "description": f"`{'`, `'.join(types)}`; `error.code` is one of:\n" + "\n".join(lines),
            "headers": headers,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/Error{status}"}}},
        }
    return schemas, responses


def error_refs() -> dict[str, Schema]:
    """Each error status an operation may answer with, by reference."""
    return {
        str(status): {"$ref": f"#/components/responses/Error{status}"}
        for status in contract_codes()
        if status not in _NOT_FOR_OPERATIONS
    }


def _error_schema(codes: list[str] | None, types: list[str] | None) -> Schema:
    code: Schema = {"type": "string", "examples": ["invalid_api_key"]}
    error_type: Schema = {"type": "string", "examples": ["invalid_request_error"]}
    if codes is not None and types is not None:
        code, error_type = {"type": "string", "enum": codes}, {"type": "string", "enum": types}
    return {
        "type": "object",
        "required": ["error", "request_id"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["type", "code", "message", "details"],
                "properties": {
                    "type": error_type,
                    "code": code,
                    "message": {"type": "string"},
                    "details": {
                        "type": "object",
                        "description": "`parameter` names a bad field or header; `suggestion` says "
                        "what to do.",
                        "additionalProperties": {"type": "string"},
                    },
                },
            },
            "request_id": {"type": "string", "pattern": "^req_[0-9a-f]{24}$"},
        },
    }
