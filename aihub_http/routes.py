"""The REST surface: which HTTP route calls which gRPC method of the core.

The table is data, read by the endpoint factory, the OpenAPI builder and contract tests alike,
so a route is added in exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Literal

from google.protobuf.descriptor import MethodDescriptor

from aihub.v1 import (
    admin_service_pb2,
    auth_service_pb2,
    chat_service_pb2,
    embedding_service_pb2,
    key_service_pb2,
    model_service_pb2,
    usage_service_pb2,
)

DEVELOPER = "/v1/developer"
# The operators' routes (AdminService): an admin's login token.
ADMIN = "/v1/admin"
# The OpenAI-compatible routes live beside the developer API under /v1, as OpenAI's own do.
OPENAI = "/v1"
# The largest body each route may take. Account and key bodies are a few short fields. A chat
# may carry 20 MiB of images (28 MB as base64) and a message of up to 2,000,000 characters
# (up to 8 MB as UTF-8): the core's own bounds, with room for the JSON around them.
SMALL_BODY_BYTES = 64 * 1024
CHAT_BODY_BYTES = 40 * 1024 * 1024
HEALTH_CHECK_METHOD = "/grpc.health.v1.Health/Check"
# Core RPCs with no REST route, on purpose (none today: WatchQuota is an SSE stream).
GRPC_ONLY_METHODS: frozenset[str] = frozenset()


def _rpc(module: ModuleType, service: str, method: str) -> MethodDescriptor:
    descriptor: MethodDescriptor = module.DESCRIPTOR.services_by_name[service].methods_by_name[method]
    return descriptor


def grpc_path(rpc: MethodDescriptor) -> str:
    """The full gRPC method name as it goes on the wire, e.g. `/aihub.v1.ChatService/Chat`."""
    return f"/{rpc.containing_service.full_name}/{rpc.name}"


@dataclass(frozen=True)
class RpcRoute:
    """One REST endpoint answered by one core RPC.

    `stream_rpc` is the server-streaming alternative chosen by a REST-only `"stream": true`
    in the body; a route whose `rpc` is itself server-streaming always answers with SSE.
    `max_body_bytes` bounds the body of a route that reads one (a larger one is a 413).
    `credential`: what its `Authorization` header carries (`api_key`, `jwt`, either of the two:
    `api_key_or_jwt`, or `none`), as the
    core's access rule for the RPC says (a contract test compares them); `idempotency_key`:
    whether it replays an earlier answer for a repeated `Idempotency-Key`. `wire`: the JSON the
    route speaks: the API document's (`aihub`, mapped from the proto field by field) or OpenAI's
    (`openai`: its own request, answer, chunk and error shapes, `aihub_http.openai`).
    `slashed_params`: its path parameters may hold `/` (model ids such as `x-ai/grok-beta`).
    `csv_rpc` is the server-streaming export a REST-only `format=csv` query parameter chooses:
    its rows stream out as CSV (`csv_export`).
    """

    http_method: str
    path: str
    rpc: MethodDescriptor
    status_code: int
    summary: str
    stream_rpc: MethodDescriptor | None = None
    max_body_bytes: int = SMALL_BODY_BYTES
    credential: Literal["api_key", "jwt", "api_key_or_jwt", "none"] = "api_key"
    idempotency_key: bool = False
    wire: Literal["aihub", "openai"] = "aihub"
    slashed_params: bool = False
    csv_rpc: MethodDescriptor | None = None

    @property
    def reads_body(self) -> bool:
        """POST routes take a JSON body; the others take query and path parameters."""
        return self.http_method == "POST"

    @property
    def takes_stream_flag(self) -> bool:
        """Whether the body may carry the REST-only `stream` boolean."""
        return self.stream_rpc is not None or self.rpc.server_streaming

    def grpc_methods(self) -> tuple[str, ...]:
        """Every gRPC method this route may call."""
        rpcs = (self.rpc, self.stream_rpc, self.csv_rpc)
        return tuple(grpc_path(rpc) for rpc in rpcs if rpc is not None)


_CHAT = _rpc(chat_service_pb2, "ChatService", "Chat")
_STREAM_CHAT = _rpc(chat_service_pb2, "ChatService", "StreamChat")
_LIST_MODELS = _rpc(model_service_pb2, "ModelService", "ListModels")

ROUTES: tuple[RpcRoute, ...] = (
    RpcRoute(
        "POST",
        "/v1/auth/register",
        _rpc(auth_service_pb2, "AuthService", "Register"),
        201,
        "Create an account on the free plan and get a JWT",
        credential="none",
    ),
    RpcRoute(
        "POST",
        "/v1/auth/login",
        _rpc(auth_service_pb2, "AuthService", "Login"),
        200,
        "Exchange email and password for a JWT",
        credential="none",
    ),
    RpcRoute(
        "POST",
        "/v1/auth/logout",
        _rpc(auth_service_pb2, "AuthService", "Logout"),
        200,
        "End the login token sent with this call: every replica refuses it from now on",
        credential="jwt",
    ),
    RpcRoute(
        "POST",
        f"{DEVELOPER}/chat",
        _CHAT,
        200,
        'Send a message; with `"stream": true` the answer comes as Server-Sent Events',
        stream_rpc=_STREAM_CHAT,
        max_body_bytes=CHAT_BODY_BYTES,
        idempotency_key=True,
    ),
    RpcRoute(
        "POST",
        f"{DEVELOPER}/chat/stream",
        _STREAM_CHAT,
        200,
        "Send a message; the answer streams as Server-Sent Events",
        max_body_bytes=CHAT_BODY_BYTES,
        idempotency_key=True,
    ),
    RpcRoute(
        "GET",
        f"{DEVELOPER}/models",
        _LIST_MODELS,
        200,
        "List models",
        credential="api_key_or_jwt",
    ),
    RpcRoute(
        "GET",
        f"{DEVELOPER}/services",
        _rpc(model_service_pb2, "ModelService", "ListServices"),
        200,
        "List AI services",
        credential="api_key_or_jwt",
    ),
    RpcRoute(
        "GET",
        f"{DEVELOPER}/usage",
        _rpc(usage_service_pb2, "UsageService", "GetUsage"),
        200,
        "Usage statistics",
        credential="api_key_or_jwt",
    ),
    RpcRoute(
        "GET",
        f"{DEVELOPER}/usage/breakdown",
        _rpc(usage_service_pb2, "UsageService", "GetUsageBreakdown"),
        200,
        "Usage by model and by API key over the same window as /usage",
        credential="api_key_or_jwt",
    ),
    RpcRoute(
        "GET",
        f"{DEVELOPER}/usage/logs",
        _rpc(usage_service_pb2, "UsageService", "ListUsageLogs"),
        200,
        "Request logs, newest first; with `format=csv` every matching row streams as CSV",
        csv_rpc=_rpc(usage_service_pb2, "UsageService", "ExportUsageLogs"),
        credential="api_key_or_jwt",
    ),
    RpcRoute(
        "GET",
        f"{DEVELOPER}/quota",
        _rpc(usage_service_pb2, "UsageService", "GetQuota"),
        200,
        "Plan, quota and limits",
        credential="api_key_or_jwt",
    ),
    RpcRoute(
        "GET",
        f"{DEVELOPER}/quota/watch",
        _rpc(usage_service_pb2, "UsageService", "WatchQuota"),
        200,
        "Live quota and rate-limit budget as Server-Sent Events, one snapshot per change",
        credential="api_key_or_jwt",
    ),
    RpcRoute(
        "POST",
        f"{DEVELOPER}/api-keys",
        _rpc(key_service_pb2, "KeyService", "CreateApiKey"),
        201,
        "Create an API key",
        credential="jwt",
    ),
    RpcRoute(
        "GET",
        f"{DEVELOPER}/api-keys",
        _rpc(key_service_pb2, "KeyService", "ListApiKeys"),
        200,
        "List API keys",
        credential="jwt",
    ),
    RpcRoute(
        "POST",
        f"{DEVELOPER}/api-keys/{{key_id}}/rotate",
        _rpc(key_service_pb2, "KeyService", "RotateApiKey"),
        200,
        "Rotate an API key: a new secret for the same key; the old one works `grace_seconds` more",
        credential="jwt",
    ),
    RpcRoute(
        "DELETE",
        f"{DEVELOPER}/api-keys/{{key_id}}",
        _rpc(key_service_pb2, "KeyService", "DeleteApiKey"),
        200,
        "Delete an API key",
        credential="jwt",
    ),
    RpcRoute(
        "POST",
        f"{DEVELOPER}/alerts",
        _rpc(usage_service_pb2, "UsageService", "CreateAlert"),
        201,
        "Set a usage alert: a threshold of the budget or quota, or an amount per day or month",
        credential="jwt",
    ),
    RpcRoute(
        "GET",
        f"{DEVELOPER}/alerts",
        _rpc(usage_service_pb2, "UsageService", "ListAlerts"),
        200,
        "List usage alerts, oldest first, with their current figures",
        credential="jwt",
    ),
    RpcRoute(
        "DELETE",
        f"{DEVELOPER}/alerts/{{alert_id}}",
        _rpc(usage_service_pb2, "UsageService", "DeleteAlert"),
        200,
        "Delete a usage alert",
        credential="jwt",
    ),
    RpcRoute(
        "GET",
        f"{ADMIN}/users",
        _rpc(admin_service_pb2, "AdminService", "ListUsers"),
        200,
        "Every account with its plan, role and this month's requests and cost (an admin's login token)",
        credential="jwt",
    ),
    RpcRoute(
        "POST",
        f"{ADMIN}/users/{{user_id}}/plan",
        _rpc(admin_service_pb2, "AdminService", "SetUserPlan"),
        200,
        "Move an account to another plan (an admin's login token)",
        credential="jwt",
    ),
    RpcRoute(
        "POST",
        f"{ADMIN}/users/{{user_id}}/budget",
        _rpc(admin_service_pb2, "AdminService", "SetUserBudget"),
        200,
        "Set an account's own budget in USD per day or month, or remove it with `limit_usd` 0 "
        "(an admin's login token)",
        credential="jwt",
    ),
    RpcRoute(
        "GET",
        f"{ADMIN}/plans",
        _rpc(admin_service_pb2, "AdminService", "ListPlans"),
        200,
        "The plans an account may be moved to, with their limits (an admin's login token)",
        credential="jwt",
    ),
    RpcRoute(
        "GET",
        f"{ADMIN}/overview",
        _rpc(admin_service_pb2, "AdminService", "GetOverview"),
        200,
        "The whole gateway's requests, tokens and cost per day over a date range, and its top "
        "models (an admin's login token)",
        credential="jwt",
    ),
    RpcRoute(
        "GET",
        f"{ADMIN}/services",
        _rpc(admin_service_pb2, "AdminService", "GetServiceHealth"),
        200,
        "The services, simulated or live, with the circuit breaker of each model as the answering "
        "process sees it (an admin's login token)",
        credential="jwt",
    ),
    RpcRoute(
        "POST",
        f"{OPENAI}/chat/completions",
        _rpc(chat_service_pb2, "ChatService", "CreateChatCompletion"),
        200,
        'OpenAI-compatible chat completion; with `"stream": true` the answer comes as chunks',
        stream_rpc=_rpc(chat_service_pb2, "ChatService", "StreamChatCompletion"),
        max_body_bytes=CHAT_BODY_BYTES,
        idempotency_key=True,
        wire="openai",
    ),
    # ListModels takes the login token too (the console's catalog), on either wire.
    RpcRoute(
        "GET",
        f"{OPENAI}/models",
        _LIST_MODELS,
        200,
        "OpenAI-compatible list of models",
        credential="api_key_or_jwt",
        wire="openai",
    ),
    RpcRoute(
        "GET",
        f"{OPENAI}/models/{{model}}",
        _LIST_MODELS,
        200,
        "OpenAI-compatible model by id (an id may hold `/`: `x-ai/grok-beta`)",
        credential="api_key_or_jwt",
        wire="openai",
        slashed_params=True,
    ),
    RpcRoute(
        "POST",
        f"{OPENAI}/embeddings",
        _rpc(embedding_service_pb2, "EmbeddingService", "CreateEmbeddings"),
        200,
        "OpenAI-compatible embeddings",
        max_body_bytes=CHAT_BODY_BYTES,
        idempotency_key=True,
        wire="openai",
    ),
)


def grpc_methods() -> list[tuple[str, str, str]]:
    """(HTTP method, path, full gRPC method name) for every route that calls the core.

    `POST /v1/developer/chat` appears twice (Chat, and StreamChat when `stream` is true);
    `GET /healthz` calls the standard health service.
    """
    rows = [(route.http_method, route.path, name) for route in ROUTES for name in route.grpc_methods()]
    rows.append(("GET", "/healthz", HEALTH_CHECK_METHOD))
    return rows
