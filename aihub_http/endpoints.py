"""Endpoints: the generic one that serves every row of the route table, and /healthz."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from aihub.v1 import chat_service_pb2
from aihub_http.access_log import note_usage
from aihub_http.disconnect import ClientGone, NoResponse, until_disconnect
from aihub_http.errors import ApiError, from_rpc_error, invalid_request
from aihub_http.jsonmap import message_to_json
from aihub_http.metadata import BadHeaderError, core_request_id, outgoing_metadata, response_headers
from aihub_http.parse import decode_json_object, message_from_json, pop_bool, query_to_json
from aihub_http.request_ids import adopt_request_id
from aihub_http.routes import RpcRoute
from aihub_http.sse import SseResponse
from aihub_http.stubs import LifespanState, Stubs

Endpoint = Callable[[Request[LifespanState]], Awaitable[Response]]

# Images may total 20 MB raw (~27 MB as base64); anything much larger is refused unread.
MAX_BODY_BYTES = 32 * 1024 * 1024
HEALTH_TIMEOUT_SECONDS = 2.0


def rpc_endpoint(route: RpcRoute) -> Endpoint:
    """The endpoint serving `route`: HTTP input -> request message -> core call -> JSON or SSE."""

    async def endpoint(request: Request[LifespanState]) -> Response:
        metadata = _metadata(request)
        data = await _input(request, route)
        streaming = route.rpc.server_streaming
        if route.takes_stream_flag:
            streaming = pop_bool(data, "stream") or streaming
        rpc = route.stream_rpc if streaming and route.stream_rpc is not None else route.rpc
        message = message_from_json(data, _request_class(rpc))
        for name, value in request.path_params.items():
            setattr(message, name, value)
        method = request.state["stubs"].method(rpc)
        if streaming:
            return await _stream(request, method(message, metadata=metadata))
        return await _unary(request, method(message, metadata=metadata), route.status_code)

    return endpoint


async def healthz(request: Request[LifespanState]) -> Response:
    """`GET /healthz`: 200 while the core's health service says SERVING, else a 503 error body."""
    stubs: Stubs = request.state["stubs"]
    try:
        reply = await stubs.health.Check(
            health_pb2.HealthCheckRequest(service=""), timeout=HEALTH_TIMEOUT_SECONDS
        )
    except grpc.aio.AioRpcError as err:
        raise ApiError(
            503, "api_error", "service_unavailable", f"The core is unreachable: {err.code().name}"
        ) from None
    if reply.status != health_pb2.HealthCheckResponse.SERVING:
        raise ApiError(503, "api_error", "service_unavailable", "The core is not serving")
    return JSONResponse({"status": "ok"})


async def _unary(
    request: Request[LifespanState], call: grpc.aio.UnaryUnaryCall[Any, Any], status_code: int
) -> Response:
    try:
        reply, headers = await until_disconnect(request.receive, _finish(call))
    except ClientGone:
        return NoResponse()
    except grpc.aio.AioRpcError as err:
        raise _failed(request, err) from None
    finally:
        call.cancel()  # a no-op once the call has finished
    adopt_request_id(request, core_request_id(await call.initial_metadata()))
    if isinstance(reply, chat_service_pb2.ChatResponse):
        note_usage(request.scope, reply.model, reply.usage)
    return JSONResponse(message_to_json(reply), status_code=status_code, headers=headers)


async def _finish(call: grpc.aio.UnaryUnaryCall[Any, Any]) -> tuple[Message, dict[str, str]]:
    reply: Message = await call
    return reply, response_headers(await call.initial_metadata())


def _failed(request: Request[LifespanState], err: grpc.aio.AioRpcError) -> ApiError:
    adopt_request_id(request, core_request_id(err.initial_metadata(), err.trailing_metadata()))
    return from_rpc_error(err)


async def _stream(request: Request[LifespanState], call: grpc.aio.UnaryStreamCall[Any, Any]) -> Response:
    try:
        first = await until_disconnect(request.receive, call.read())
    except ClientGone:
        call.cancel()
        return NoResponse()
    except grpc.aio.AioRpcError as err:
        raise _failed(request, err) from None
    initial = await call.initial_metadata()
    adopt_request_id(request, core_request_id(initial))
    headers = response_headers(initial)
    return SseResponse(
        call, first if isinstance(first, chat_service_pb2.StreamChatResponse) else None, headers
    )


def _metadata(request: Request[LifespanState]) -> tuple[tuple[str, str], ...]:
    try:
        return outgoing_metadata(request.headers)
    except BadHeaderError as exc:
        if exc.header == "Authorization":
            raise ApiError(
                401, "authentication_error", "invalid_api_key", str(exc), details={"parameter": exc.header}
            ) from None
        raise invalid_request("invalid_parameter", str(exc), exc.header) from None


async def _input(request: Request[LifespanState], route: RpcRoute) -> dict[str, Any]:
    if route.reads_body:
        return decode_json_object(await _read_body(request))
    bound = frozenset(request.path_params)
    return query_to_json(request.query_params.multi_items(), route.rpc.input_type, bound)


async def _read_body(request: Request[LifespanState]) -> bytes:
    too_large = invalid_request(
        "request_too_large", f"The request body is larger than {MAX_BODY_BYTES} bytes", status_code=413
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _request_class(rpc: MethodDescriptor) -> type[Message]:
    return message_factory.GetMessageClass(rpc.input_type)
