"""The core's replies in OpenAI's shapes: `chat.completion`, the `chat.completion.chunk` frames of
a stream (as `openai/types/chat/chat_completion_chunk.py` reads them), and models.

Ids are `chatcmpl-` and the hex of the request id the core gave the call, so an answer, its
ledger row and its `X-Request-ID` name each other. `model` is the catalog id of the model that
answered (`x-ai/grok-beta`); `usage` carries our `estimated_cost_usd` beside OpenAI's counts.
"""

from __future__ import annotations

import time
from typing import Any

import grpc
from google.protobuf.message import Message
from starlette.types import Scope

from aihub.v1 import chat_service_pb2 as chat_pb
from aihub.v1 import model_service_pb2 as model_pb
from aihub_http.access_log import note_usage
from aihub_http.errors import from_rpc_error
from aihub_http.openai.errors import error_object
from aihub_http.sse import encode_event

DONE = b"data: [DONE]\n\n"


def completion_id(request_id: str) -> str:
    """`chatcmpl-` and the request id's hex."""
    return "chatcmpl-" + request_id.removeprefix("req_")


def catalog_id(qualified: str) -> str:
    """`x-ai/grok-beta` of `openrouter:x-ai/grok-beta`."""
    return qualified.partition(":")[2] or qualified


def usage_json(usage: chat_pb.Usage) -> dict[str, Any]:
    """OpenAI's usage object, with the call's cost."""
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "estimated_cost_usd": usage.estimated_cost_usd,
    }


def completion_json(reply: chat_pb.CreateChatCompletionResponse, request_id: str) -> dict[str, Any]:
    """A `chat.completion` object with its one choice."""
    answer = reply.message
    message: dict[str, Any] = {
        "role": "assistant",
        "content": "".join(part.text for part in answer.content) if answer.content else None,
        "refusal": None,
    }
    if answer.tool_calls:
        message["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.function.name, "arguments": call.function.arguments},
            }
            for call in answer.tool_calls
        ]
    return {
        "id": completion_id(request_id),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": catalog_id(reply.model),
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": reply.metadata.finish_reason or "stop",
            }
        ],
        "usage": usage_json(reply.usage),
    }


class ChunkWriter:
    """Writes a StreamChatCompletion call as OpenAI's chunks: the role first, then content and
    tool-call pieces, the finish reason, the usage chunk (`choices: []`) when asked for, then
    `[DONE]`. A failure after the first chunk is the `{"error": ...}` frame the SDKs raise."""

    def __init__(self, request_id: str, model: str, include_usage: bool, max_tokens_name: str) -> None:
        self._head = {
            "id": completion_id(request_id),
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
        }
        self._include_usage = include_usage
        self._max_tokens_name = max_tokens_name
        self._started = False

    def frames(self, scope: Scope, message: Message) -> list[bytes]:
        """The chunks one core event becomes."""
        assert isinstance(message, chat_pb.StreamChatCompletionResponse)
        kind = message.WhichOneof("event")
        frames: list[bytes] = []
        if kind == "delta":
            delta = message.delta
            if not self._started and delta.model:
                self._head["model"] = delta.model
            frames += self._start()
            if delta.content:
                frames.append(self._chunk({"content": delta.content}))
            if delta.tool_calls:
                frames.append(self._chunk({"tool_calls": [_tool_call_piece(p) for p in delta.tool_calls]}))
        elif kind == "usage":
            event = message.usage
            frames += self._start()
            frames.append(self._chunk({}, event.metadata.finish_reason or "stop"))
            if self._include_usage:
                frames.append(encode_event({**self._head, "choices": [], "usage": usage_json(event.usage)}))
            note_usage(scope, f"{event.metadata.service_used}:{self._head['model']}", event.usage)
        elif kind == "done":
            frames.append(DONE)
        return frames

    def failure(self, err: grpc.aio.AioRpcError) -> bytes:
        """The error object, as OpenAI ends a failed stream."""
        return encode_event({"error": error_object(from_rpc_error(err), self._max_tokens_name)})

    def _start(self) -> list[bytes]:
        if self._started:
            return []
        self._started = True
        return [self._chunk({"role": "assistant", "content": "", "refusal": None})]

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        chunk: dict[str, Any] = {**self._head, "choices": [choice]}
        if self._include_usage:
            chunk["usage"] = None
        return encode_event(chunk)


def _tool_call_piece(piece: Any) -> dict[str, Any]:
    if piece.id:  # a call's first piece names it
        return {
            "index": piece.index,
            "id": piece.id,
            "type": "function",
            "function": {"name": piece.name, "arguments": piece.arguments},
        }
    return {"index": piece.index, "function": {"arguments": piece.arguments}}


def model_json(model: model_pb.Model) -> dict[str, Any]:
    """OpenAI's model object (the catalog has no creation time: 0)."""
    return {"id": model.id, "object": "model", "created": 0, "owned_by": model.service}


def models_json(reply: model_pb.ListModelsResponse) -> dict[str, Any]:
    """OpenAI's list of models."""
    return {"object": "list", "data": [model_json(model) for model in reply.models]}


def find_model(reply: model_pb.ListModelsResponse, wanted: str) -> model_pb.Model | None:
    """The model `wanted` names: its id, `service:id`, or one of its aliases."""
    for model in reply.models:
        if wanted in (model.id, f"{model.service}:{model.id}"):
            return model
    for model in reply.models:
        if wanted in model.aliases:
            return model
    return None
