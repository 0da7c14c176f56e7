"""Test doubles for the shim: a fake core (a real grpc.aio server on port 0) and a uvicorn runner.

The fake servicers subclass the generated `*Servicer` classes and answer the way the core is
specified to: canned messages, a request id of the call's own and rate-limit figures in initial
metadata, and rich errors built with grpc_status + ErrorInfo/RetryInfo (the id in their trailers
too), aborted with `context.abort_with_status`.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc
import uvicorn
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_status import rpc_status
from starlette.applications import Starlette

from aihub.v1 import (
    auth_service_pb2_grpc,
    chat_service_pb2_grpc,
    key_service_pb2_grpc,
    model_service_pb2_grpc,
    usage_service_pb2_grpc,
)
from tests.http.canned import STREAM_EVENTS, canned_replies

RATE_LIMIT_METADATA = (
    ("x-ratelimit-limit", "60"),
    ("x-ratelimit-remaining", "59"),
    ("x-ratelimit-reset", "1640995200"),
)

Handler = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]
StreamHandler = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], AsyncIterator[Any]]


def rich_status(
    code: grpc.StatusCode,
    message: str,
    *,
    error_type: str,
    error_code: str,
    http_status: int,
    retry_after: float | None = None,
    details: dict[str, str] | None = None,
) -> grpc.Status:
    """A status built the way the core builds one."""
    info = error_details_pb2.ErrorInfo(
        reason=error_code.upper(),
        domain="aihub.dev",
        metadata={"type": error_type, "code": error_code, "http_status": str(http_status), **(details or {})},
    )
    status = status_pb2.Status(code=code.value[0], message=message)
    status.details.add().Pack(info)
    if retry_after is not None:
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(int(retry_after * 1e9))
        status.details.add().Pack(error_details_pb2.RetryInfo(retry_delay=delay))
    built: grpc.Status = rpc_status.to_status(status)
    return built


def with_trailers(status: grpc.Status, *pairs: tuple[str, str]) -> grpc.Status:
    """`status` with more trailing metadata (grpc_status returns a namedtuple)."""
    replaced: grpc.Status = status._replace(trailing_metadata=(*status.trailing_metadata, *pairs))  # type: ignore[attr-defined]
    return replaced


def rate_limited(retry_after: float = 1.2) -> grpc.Status:
    return rich_status(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "Rate limit exceeded: 60 requests per minute",
        error_type="rate_limit_error",
        error_code="rate_limit_exceeded",
        http_status=429,
        retry_after=retry_after,
    )


@dataclass
class Received:
    method: str
    request: Any
    metadata: dict[str, str]
    # The id the call answers under, minted by the (fake) core as the real one mints its own.
    request_id: str = field(default_factory=lambda: f"req_{secrets.token_hex(12)}")


@dataclass
class FakeCore:
    """What every servicer answers, and what each call received."""

    port: int = 0
    calls: list[Received] = field(default_factory=list)
    replies: dict[str, Any] = field(default_factory=canned_replies)
    handlers: dict[str, Handler] = field(default_factory=dict)
    stream_handler: StreamHandler | None = None
    initial_metadata: tuple[tuple[str, str], ...] = RATE_LIMIT_METADATA
    called: asyncio.Event = field(default_factory=asyncio.Event)
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    health: Any = None

    def fail(self, method: str, status: grpc.Status, *, send_initial: bool = True) -> None:
        """Make `method` abort with `status` (rate-limit figures sent first unless told not to)."""

        async def handler(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            request_id = ("x-request-id", self.calls[-1].request_id)
            if send_initial:
                await context.send_initial_metadata((request_id, *self.initial_metadata))
            await context.abort_with_status(with_trailers(status, request_id))

        self.handlers[method] = handler

    def last(self, method: str) -> Received:
        return [call for call in self.calls if call.method == method][-1]

    async def unary(self, method: str, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        received = Received(method, request, _metadata(context))
        self.calls.append(received)
        self.called.set()
        handler = self.handlers.get(method)
        if handler is not None:
            return await handler(request, context)
        await context.send_initial_metadata((("x-request-id", received.request_id), *self.initial_metadata))
        return self.replies[method]

    async def stream(self, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
        received = Received("StreamChat", request, _metadata(context))
        self.calls.append(received)
        self.called.set()
        try:
            if self.stream_handler is not None:
                async for item in self.stream_handler(request, context):
                    yield item
                return
            await context.send_initial_metadata(
                (("x-request-id", received.request_id), *self.initial_metadata)
            )
            for item in STREAM_EVENTS:
                yield item
        except asyncio.CancelledError:
            self.cancelled.set()
            raise


def _metadata(context: grpc.aio.ServicerContext[Any, Any]) -> dict[str, str]:
    return {key: value for key, value in context.invocation_metadata() or () if isinstance(value, str)}


class _Auth(auth_service_pb2_grpc.AuthServiceServicer):
    def __init__(self, core: FakeCore) -> None:
        self.core = core

    async def Register(self, request: Any, context: Any) -> Any:
        return await self.core.unary("Register", request, context)

    async def Login(self, request: Any, context: Any) -> Any:
        return await self.core.unary("Login", request, context)

    async def Logout(self, request: Any, context: Any) -> Any:
        return await self.core.unary("Logout", request, context)


class _Chat(chat_service_pb2_grpc.ChatServiceServicer):
    def __init__(self, core: FakeCore) -> None:
        self.core = core

    async def Chat(self, request: Any, context: Any) -> Any:
        try:
            return await self.core.unary("Chat", request, context)
        except asyncio.CancelledError:
            self.core.cancelled.set()
            raise

    async def StreamChat(self, request: Any, context: Any) -> AsyncIterator[Any]:
        async for item in self.core.stream(request, context):
            yield item

    async def CreateChatCompletion(self, request: Any, context: Any) -> Any:
        return await self.core.unary("CreateChatCompletion", request, context)

    async def StreamChatCompletion(self, request: Any, context: Any) -> AsyncIterator[Any]:
        async for item in self.core.stream(request, context):
            yield item


class _Models(model_service_pb2_grpc.ModelServiceServicer):
    def __init__(self, core: FakeCore) -> None:
        self.core = core

    async def ListModels(self, request: Any, context: Any) -> Any:
        return await self.core.unary("ListModels", request, context)

    async def ListServices(self, request: Any, context: Any) -> Any:
        return await self.core.unary("ListServices", request, context)


class _Usage(usage_service_pb2_grpc.UsageServiceServicer):
    def __init__(self, core: FakeCore) -> None:
        self.core = core

    async def GetUsage(self, request: Any, context: Any) -> Any:
        return await self.core.unary("GetUsage", request, context)

    async def GetUsageBreakdown(self, request: Any, context: Any) -> Any:
        return await self.core.unary("GetUsageBreakdown", request, context)

    async def GetQuota(self, request: Any, context: Any) -> Any:
        return await self.core.unary("GetQuota", request, context)

    async def WatchQuota(self, request: Any, context: Any) -> AsyncIterator[Any]:
        # gRPC-only: the shim has no route for it, so the fake never serves it.
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "not served by the fake core")
        yield  # pragma: no cover - makes this an async generator, as the servicer expects

    async def ListUsageLogs(self, request: Any, context: Any) -> Any:
        return await self.core.unary("ListUsageLogs", request, context)

    async def ExportUsageLogs(self, request: Any, context: Any) -> AsyncIterator[Any]:
        # The real core's export is tested end to end (tests/e2e/test_rest_usage_logs.py).
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "not served by the fake core")
        yield  # pragma: no cover - makes this an async generator, as the servicer expects

    async def CreateAlert(self, request: Any, context: Any) -> Any:
        return await self.core.unary("CreateAlert", request, context)

    async def ListAlerts(self, request: Any, context: Any) -> Any:
        return await self.core.unary("ListAlerts", request, context)

    async def DeleteAlert(self, request: Any, context: Any) -> Any:
        return await self.core.unary("DeleteAlert", request, context)


class _Keys(key_service_pb2_grpc.KeyServiceServicer):
    def __init__(self, core: FakeCore) -> None:
        self.core = core

    async def CreateApiKey(self, request: Any, context: Any) -> Any:
        return await self.core.unary("CreateApiKey", request, context)

    async def ListApiKeys(self, request: Any, context: Any) -> Any:
        return await self.core.unary("ListApiKeys", request, context)

    async def DeleteApiKey(self, request: Any, context: Any) -> Any:
        return await self.core.unary("DeleteApiKey", request, context)

    async def RotateApiKey(self, request: Any, context: Any) -> Any:
        return await self.core.unary("RotateApiKey", request, context)


@asynccontextmanager
async def fake_core() -> AsyncIterator[FakeCore]:
    core = FakeCore()
    server = grpc.aio.server()
    auth_service_pb2_grpc.add_AuthServiceServicer_to_server(_Auth(core), server)
    chat_service_pb2_grpc.add_ChatServiceServicer_to_server(_Chat(core), server)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(_Models(core), server)
    usage_service_pb2_grpc.add_UsageServiceServicer_to_server(_Usage(core), server)
    key_service_pb2_grpc.add_KeyServiceServicer_to_server(_Keys(core), server)
    core.health = health.aio.HealthServicer()
    await core.health.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(core.health, server)
    core.port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield core
    finally:
        await server.stop(None)


@asynccontextmanager
async def serve_http(app: Starlette) -> AsyncIterator[str]:
    """Run `app` on a real uvicorn bound to a free port; yield its base URL."""
    # The graceful-shutdown limit makes a test whose request hangs fail instead of hang.
    # proxy_headers off, as `aihub serve` runs it: the client's address is the socket's peer.
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_config=None,
        http="h11",
        ws="none",
        timeout_graceful_shutdown=2,
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.005)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
