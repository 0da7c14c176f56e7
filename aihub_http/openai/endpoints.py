"""The OpenAI-compatible endpoints: OpenAI's JSON in, the core's RPC, OpenAI's JSON or chunks out.

They run on the developer API's machinery (`aihub_http.endpoints`: bodies read within bounds,
metadata out and headers back, the core's request id adopted, the call cancelled when the client
leaves; `aihub_http.sse` for the stream); only the JSON and the errors' shape are OpenAI's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from aihub.v1 import chat_service_pb2 as chat_pb
from aihub.v1 import model_service_pb2 as model_pb
from aihub_http.access_log import note_usage
from aihub_http.bodies import Bodies, Held
from aihub_http.disconnect import ClientGone, NoResponse
from aihub_http.endpoints import Endpoint, first_message, request_metadata, unary_reply
from aihub_http.errors import ApiError
from aihub_http.json_response import JsonResponse
from aihub_http.openai.answers import ChunkWriter, completion_json, find_model, model_json, models_json
from aihub_http.openai.chat_request import chat_body
from aihub_http.openai.embeddings import embeddings_body, embeddings_json
from aihub_http.openai.errors import error_response
from aihub_http.parse import decode_json_object
from aihub_http.request_ids import request_id_of
from aihub_http.routes import OPENAI, RpcRoute
from aihub_http.sse import SseResponse
from aihub_http.stubs import LifespanState, Stubs

Serve = Callable[[Request[LifespanState], dict[str, Any]], Awaitable[Response]]


def openai_endpoint(route: RpcRoute, bodies: Bodies) -> Endpoint:
    """The endpoint serving the OpenAI-compatible `route`; every error in OpenAI's shape."""
    serve = _SERVES[route.path]

    async def endpoint(request: Request[LifespanState]) -> Response:
        held = Held()
        try:
            data: dict[str, Any] = {}
            if route.reads_body:
                data = decode_json_object(await bodies.read(request, route.max_body_bytes, held))
            return await serve(request, data)
        except ApiError as exc:
            return error_response(exc, request_id_of(request))
        except (ClientDisconnect, ClientGone):
            return NoResponse()
        finally:
            bodies.release(held)

    return endpoint


async def _chat(request: Request[LifespanState], data: dict[str, Any]) -> Response:
    body = chat_body(data)
    stubs: Stubs = request.state["stubs"]
    metadata = request_metadata(request)
    request_message = body.request
    try:
        if isinstance(request_message, chat_pb.StreamChatCompletionRequest):
            call = stubs.chat.StreamChatCompletion(request_message, metadata=metadata)
            first, headers = await first_message(request, call)
            writer = ChunkWriter(
                request_id_of(request), body.request.model, body.include_usage, body.max_tokens_name
            )
            return SseResponse(call, first, headers, writer)
        call_once = stubs.chat.CreateChatCompletion(request_message, metadata=metadata)
        reply, headers = await unary_reply(request, call_once)
    except ApiError as exc:
        return error_response(exc, request_id_of(request), body.max_tokens_name)
    note_usage(request.scope, reply.model, reply.usage)
    # A replayed answer keeps the id of the call that made it, as the developer API's does.
    answer_id = reply.metadata.request_id or request_id_of(request)
    return JsonResponse(completion_json(reply, answer_id), headers=headers)


async def _embeddings(request: Request[LifespanState], data: dict[str, Any]) -> Response:
    body = embeddings_body(data)
    stubs: Stubs = request.state["stubs"]
    call = stubs.embeddings.CreateEmbeddings(body.request, metadata=request_metadata(request))
    reply, headers = await unary_reply(request, call)
    note_usage(request.scope, reply.model, reply.usage)
    return JSONResponse(embeddings_json(reply, body.encoding), headers=headers)


async def _list_models(request: Request[LifespanState]) -> tuple[model_pb.ListModelsResponse, dict[str, str]]:
    stubs: Stubs = request.state["stubs"]
    call = stubs.models.ListModels(model_pb.ListModelsRequest(), metadata=request_metadata(request))
    return await unary_reply(request, call)


async def _models(request: Request[LifespanState], data: dict[str, Any]) -> Response:
    reply, headers = await _list_models(request)
    return JSONResponse(models_json(reply), headers=headers)


async def _model(request: Request[LifespanState], data: dict[str, Any]) -> Response:
    wanted = request.path_params["model"]
    reply, headers = await _list_models(request)
    found = find_model(reply, wanted)
    if found is None:
        raise ApiError(
            404,
            "invalid_request_error",
            "model_not_found",
            f"The model `{wanted}` does not exist",
            details={"parameter": "model"},
            headers=headers,
        )
    return JSONResponse(model_json(found), headers=headers)


_SERVES: dict[str, Serve] = {
    f"{OPENAI}/chat/completions": _chat,
    f"{OPENAI}/embeddings": _embeddings,
    f"{OPENAI}/models": _models,
    f"{OPENAI}/models/{{model}}": _model,
}
