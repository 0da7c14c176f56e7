"""Endpoints: the generic one that serves every row of the route table, and /healthz."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from aihub.v1 import chat_service_pb2
from aihub_http.access_log import note_usage
from aihub_http.bodies import Bodies, Held
from aihub_http.csv_export import FORMATS, CsvResponse
from aihub_http.disconnect import ClientGone, NoResponse, until_disconnect
from aihub_http.errors import ApiError, from_rpc_error, invalid_request
from aihub_http.json_response import JsonResponse
from aihub_http.jsonmap import message_to_json
from aihub_http.metadata import BadHeaderError, core_request_id, outgoing_metadata, response_headers
from aihub_http.parse import decode_json_object, message_from_json, pop_bool, query_to_json
from aihub_http.request_ids import adopt_request_id
from aihub_http.routes import RpcRoute
from aihub_http.sse import SseResponse, writer_for
from aihub_http.stubs import LifespanState, Stubs

Endpoint = Callable[[Request[LifespanState]], Awaitable[Response]]

R = TypeVar("R")

HEALTH_TIMEOUT_SECONDS = 2.0


def rpc_endpoint(route: RpcRoute, bodies: Bodies) -> Endpoint:
    """The endpoint serving `route`: HTTP input -> request message -> core call -> JSON or SSE.
    A body is read within `bodies`' bounds and counted there until the endpoint returns."""

    async def endpoint(request: Request[LifespanState]) -> Response:
        if not route.reads_body:
            return await answer(request, None)
        held = Held()
        try:
            return await answer(request, held)
        except ClientDisconnect:  # gone while sending its body
            return NoResponse()
        finally:
            bodies.release(held)

    async def answer(request: Request[LifespanState], held: Held | None) -> Response:
        metadata = request_metadata(request)
        if held is not None:
            data = decode_json_object(await bodies.read(request, route.max_body_bytes, held))
        else:
            bound = frozenset(request.path_params)
            params = request.query_params.multi_items()
            if route.csv_rpc is not None:
                params, export = _export_format(params)
                if export:
                    data = query_to_json(params, route.csv_rpc.input_type, bound)
                    return await _csv(request, route.csv_rpc, data, metadata)
            data = query_to_json(params, route.rpc.input_type, bound)
        streaming = route.rpc.server_streaming
        if route.takes_stream_flag:
            streaming = pop_bool(data, "stream") or streaming
        rpc = route.stream_rpc if streaming and route.stream_rpc is not None else route.rpc
        message = message_from_json(data, _request_class(rpc))
        for name, value in request.path_params.items():
            setattr(message, name, value)
        method = request.state["stubs"].method(rpc)
        if streaming:
            return await _stream(request, method(message, metadata=metadata), rpc)
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


async def unary_reply(
    request: Request[LifespanState], call: grpc.aio.UnaryUnaryCall[Any, R]
) -> tuple[R, dict[str, str]]:
    """The call's reply and the headers its metadata gives; the call is cancelled if the client
    leaves first (ClientGone), and a failed call is the ApiError it maps to. The request is
    answered under the core's request id from here on."""
    try:
        reply, initial = await until_disconnect(request.receive, _finish(call))
    except grpc.aio.AioRpcError as err:
        raise _failed(request, err) from None
    finally:
        call.cancel()  # a no-op once the call has finished
    adopt_request_id(request, core_request_id(initial))
    return reply, response_headers(initial)


async def first_message(
    request: Request[LifespanState], call: grpc.aio.UnaryStreamCall[Any, Any]
) -> tuple[Message | None, dict[str, str]]:
    """A stream's first message (None for an empty stream) and the headers of its initial
    metadata; as `unary_reply` for a client that leaves or a call refused up front."""
    try:
        first = await until_disconnect(request.receive, call.read())
    except ClientGone:
        call.cancel()
        raise
    except grpc.aio.AioRpcError as err:
        raise _failed(request, err) from None
    initial = await call.initial_metadata()
    adopt_request_id(request, core_request_id(initial))
    return (first if isinstance(first, Message) else None), response_headers(initial)


async def _unary(
    request: Request[LifespanState], call: grpc.aio.UnaryUnaryCall[Any, Any], status_code: int
) -> Response:
    try:
        reply, headers = await unary_reply(request, call)
    except ClientGone:
        return NoResponse()
    if isinstance(reply, chat_service_pb2.ChatResponse):
        note_usage(request.scope, reply.model, reply.usage)
    return JsonResponse(message_to_json(reply), status_code=status_code, headers=headers)


async def _finish(call: grpc.aio.UnaryUnaryCall[Any, R]) -> tuple[R, grpc.aio.Metadata]:
    """The reply and the initial metadata (read once: each read builds a Metadata)."""
    reply = await call
    return reply, await call.initial_metadata()


def _failed(request: Request[LifespanState], err: grpc.aio.AioRpcError) -> ApiError:
    adopt_request_id(request, core_request_id(err.initial_metadata(), err.trailing_metadata()))
    return from_rpc_error(err)


async def _stream(
    request: Request[LifespanState], call: grpc.aio.UnaryStreamCall[Any, Any], rpc: MethodDescriptor
) -> Response:
    try:
        first, headers = await first_message(request, call)
    except ClientGone:
        return NoResponse()
    return SseResponse(call, first, headers, writer_for(rpc))


def _export_format(params: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], bool]:
    """The query without the REST-only `format` parameter, and whether it asks for CSV."""
    chosen = [value for name, value in params if name == "format"]
    if chosen and chosen[-1] not in FORMATS:
        raise invalid_request(
            "invalid_parameter", f"format must be one of {', '.join(FORMATS)}, got {chosen[-1]!r}", "format"
        )
    rest = [(name, value) for name, value in params if name != "format"]
    return rest, bool(chosen) and chosen[-1] == "csv"


async def _csv(
    request: Request[LifespanState],
    rpc: MethodDescriptor,
    data: dict[str, Any],
    metadata: tuple[tuple[str, str], ...],
) -> Response:
    """The export RPC's rows as a CSV stream; an error before the first batch is a JSON error."""
    message = message_from_json(data, _request_class(rpc))
    call = request.state["stubs"].method(rpc)(message, metadata=metadata)
    try:
        first, headers = await first_message(request, call)  # None: no row matched
    except ClientGone:
        return NoResponse()
    name = request.url.path.rstrip("/").rsplit("/", 1)[-1]
    return CsvResponse(call, first, rpc.output_type, headers, f"{name}.csv")


def request_metadata(request: Request[LifespanState]) -> tuple[tuple[str, str], ...]:
    """The metadata of a core call made for `request` (its credentials, Idempotency-Key, address);
    a header that cannot travel as metadata is the 400 (401 for Authorization) naming it."""
    try:
        return outgoing_metadata(request.headers, request.client.host if request.client else None)
    except BadHeaderError as exc:
        if exc.header == "Authorization":
            raise ApiError(
                401, "authentication_error", "invalid_api_key", str(exc), details={"parameter": exc.header}
            ) from None
        raise invalid_request("invalid_parameter", str(exc), exc.header) from None


def _request_class(rpc: MethodDescriptor) -> type[Message]:
    return message_factory.GetMessageClass(rpc.input_type)
