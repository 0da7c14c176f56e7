"""ChatService: Chat and StreamChat (one message in a session), CreateChatCompletion and
StreamChatCompletion (the message-array form), adapters of the chat use case (`aihub_core.chat.calls`)."""

from __future__ import annotations

import functools
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from typing import TypeVar

from google.protobuf.message import Message

from aihub.v1 import chat_service_pb2 as pb
from aihub.v1 import chat_service_pb2_grpc as pb_grpc
from aihub_core.chat.calls import ChatCall, ChatCalls, IdempotencyKey, Replay, TurnCall
from aihub_core.chat.completion_params import CompletionParams
from aihub_core.chat.engine import ChatOutcome, ContentPiece
from aihub_core.chat.params import ChatParams
from aihub_core.grpc_api import convert
from aihub_core.grpc_api.access import api_key
from aihub_core.grpc_api.convert_completions import (
    completion_delta,
    completion_end,
    completion_params,
    completion_response,
    replayed_completion_stream,
)
from aihub_core.grpc_api.gate import Call, Gate
from aihub_core.grpc_api.rpc import server_stream, unary

# The gate authenticates; the use case admits, once it knows the call's token estimate.
CHAT = api_key("chat", demand=None)
P = TypeVar("P")
R = TypeVar("R")


def _stored_answer(outcome: ChatOutcome) -> bytes:
    """What an Idempotency-Key keeps for a replay: the ChatResponse, for Chat and StreamChat alike."""
    return convert.chat_response(outcome).SerializeToString()


def _stored_completion(outcome: ChatOutcome) -> bytes:
    """The same for the message-array form: the CreateChatCompletionResponse, unary and streamed."""
    return completion_response(outcome).SerializeToString()


def use_case_call(
    gate: Gate,
    call: Call,
    method: str,
    request: Message,
    read_params: Callable[[], P],
    encode: Callable[[R], bytes],
) -> ChatCall[P, R]:
    """The use case's call for an RPC: its parameters, its limits' figures sent as the initial
    metadata (before the first message), and its Idempotency-Key, if any."""
    key: IdempotencyKey[R] | None = None
    if call.idempotency_key:
        fingerprint = request.SerializeToString(deterministic=True)
        key = IdempotencyKey(call.idempotency_key, method, fingerprint, encode)
    return ChatCall(call.user, call.request_id, read_params, functools.partial(gate.send_limits, call), key)


class ChatServicer(pb_grpc.ChatServiceServicer):
    def __init__(self, gate: Gate, calls: ChatCalls) -> None:
        self.gate = gate
        self._calls = calls

    def _chat_call(self, call: Call, method: str, request: pb.ChatRequest | pb.StreamChatRequest) -> TurnCall:
        read: Callable[[], ChatParams | CompletionParams] = functools.partial(convert.chat_params, request)
        return use_case_call(self.gate, call, method, request, read, _stored_answer)

    def _completion_call(
        self,
        call: Call,
        method: str,
        request: pb.CreateChatCompletionRequest | pb.StreamChatCompletionRequest,
    ) -> TurnCall:
        read: Callable[[], ChatParams | CompletionParams] = functools.partial(completion_params, request)
        return use_case_call(self.gate, call, method, request, read, _stored_completion)

    @unary(CHAT)
    async def Chat(self, request: pb.ChatRequest, call: Call) -> pb.ChatResponse:
        answer = await self._calls.complete(self._chat_call(call, "Chat", request))
        if isinstance(answer, Replay):
            return pb.ChatResponse.FromString(answer.answer)
        return convert.chat_response(answer)

    @server_stream(CHAT)
    async def StreamChat(
        self, request: pb.StreamChatRequest, call: Call
    ) -> AsyncGenerator[pb.StreamChatResponse, None]:
        async with aclosing(self._calls.stream(self._chat_call(call, "StreamChat", request))) as events:
            async for event in events:
                if isinstance(event, ContentPiece):
                    if event.text:  # no tools are offered here: a tool-call piece has nothing to show
                        yield pb.StreamChatResponse(content=convert.content(event))
                elif isinstance(event, Replay):
                    for replayed in convert.replayed_stream(pb.ChatResponse.FromString(event.answer)):
                        yield replayed
                else:
                    yield pb.StreamChatResponse(session=pb.SessionEvent(session_id=event.session_id))
                    yield pb.StreamChatResponse(
                        usage=pb.UsageEvent(usage=convert.usage(event), metadata=convert.chat_metadata(event))
                    )
                    yield pb.StreamChatResponse(done=pb.DoneEvent())

    @unary(CHAT)
    async def CreateChatCompletion(
        self, request: pb.CreateChatCompletionRequest, call: Call
    ) -> pb.CreateChatCompletionResponse:
        answer = await self._calls.complete(self._completion_call(call, "CreateChatCompletion", request))
        if isinstance(answer, Replay):
            return pb.CreateChatCompletionResponse.FromString(answer.answer)
        return completion_response(answer)

    @server_stream(CHAT)
    async def StreamChatCompletion(
        self, request: pb.StreamChatCompletionRequest, call: Call
    ) -> AsyncGenerator[pb.StreamChatCompletionResponse, None]:
        chat_call = self._completion_call(call, "StreamChatCompletion", request)
        async with aclosing(self._calls.stream(chat_call)) as events:
            async for event in events:
                if isinstance(event, ContentPiece):
                    yield completion_delta(event)
                elif isinstance(event, Replay):
                    stored = pb.CreateChatCompletionResponse.FromString(event.answer)
                    for replayed in replayed_completion_stream(stored):
                        yield replayed
                else:
                    for end in completion_end(event):
                        yield end
