"""ChatService: Chat and StreamChat over the chat engine."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aihub.v1 import chat_service_pb2 as pb
from aihub.v1 import chat_service_pb2_grpc as pb_grpc
from aihub_core.grpc_api import convert
from aihub_core.grpc_api.access import api_key
from aihub_core.grpc_api.gate import Call, Gate
from aihub_core.grpc_api.rpc import server_stream, unary
from aihub_core.services.chat import ChatEngine, ContentPiece


class ChatServicer(pb_grpc.ChatServiceServicer):
    def __init__(self, gate: Gate, engine: ChatEngine) -> None:
        self.gate = gate
        self._engine = engine

    @unary(api_key("chat"))
    async def Chat(self, request: pb.ChatRequest, call: Call) -> pb.ChatResponse:
        prepared = await self._engine.prepare(call.user, convert.chat_params(request), call.request_id)
        return convert.chat_response(await self._engine.complete(prepared))

    @server_stream(api_key("chat"))
    async def StreamChat(
        self, request: pb.StreamChatRequest, call: Call
    ) -> AsyncIterator[pb.StreamChatResponse]:
        prepared = await self._engine.prepare(call.user, convert.chat_params(request), call.request_id)
        model_id = prepared.model.id
        events = self._engine.stream(prepared)
        try:
            async for event in events:
                if isinstance(event, ContentPiece):
                    yield pb.StreamChatResponse(content=pb.ContentEvent(content=event.text, model=model_id))
                    continue
                yield pb.StreamChatResponse(session=pb.SessionEvent(session_id=event.session_id))
                yield pb.StreamChatResponse(
                    usage=pb.UsageEvent(usage=convert.usage(event), metadata=convert.chat_metadata(event))
                )
                yield pb.StreamChatResponse(done=pb.DoneEvent())
        finally:
            await events.aclose()
