"""ChatService: Chat and StreamChat, adapters of the chat use case (`aihub_core.chat.calls`)."""

from __future__ import annotations

import functools
from collections.abc import AsyncGenerator
from contextlib import aclosing

from aihub.v1 import chat_service_pb2 as pb
from aihub.v1 import chat_service_pb2_grpc as pb_grpc
from aihub_core.chat.calls import ChatCall, ChatCalls, IdempotencyKey, Replay
from aihub_core.chat.engine import ChatOutcome, ContentPiece
from aihub_core.grpc_api import convert
from aihub_core.grpc_api.access import api_key
from aihub_core.grpc_api.gate import Call, Gate
from aihub_core.grpc_api.rpc import server_stream, unary

# The gate authenticates; the use case admits, once it knows the call's token estimate.
CHAT = api_key("chat", demand=None)


def _stored_answer(outcome: ChatOutcome) -> bytes:
    """What an Idempotency-Key keeps for a replay: the ChatResponse, for Chat and StreamChat alike."""
    return convert.chat_response(outcome).SerializeToString()


class ChatServicer(pb_grpc.ChatServiceServicer):
    def __init__(self, gate: Gate, calls: ChatCalls) -> None:
        self.gate = gate
        self._calls = calls

    def _chat_call(self, call: Call, method: str, request: pb.ChatRequest | pb.StreamChatRequest) -> ChatCall:
        key: IdempotencyKey | None = None
        if call.idempotency_key:
            fingerprint = request.SerializeToString(deterministic=True)
            key = IdempotencyKey(call.idempotency_key, method, fingerprint, _stored_answer)
        return ChatCall(
            caller=call.user,
            request_id=call.request_id,
            read_params=functools.partial(convert.chat_params, request),
            # The figures go out as the initial metadata, before the first message.
            report_limits=functools.partial(self.gate.send_limits, call),
            idempotency=key,
        )

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
