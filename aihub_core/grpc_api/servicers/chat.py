"""ChatService: Chat and StreamChat over the chat engine, admitted once the token estimate is known."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator

from aihub.v1 import chat_service_pb2 as pb
from aihub.v1 import chat_service_pb2_grpc as pb_grpc
from aihub_core.errors import RateLimitError
from aihub_core.grpc_api import convert
from aihub_core.grpc_api.access import api_key
from aihub_core.grpc_api.gate import Call, Gate
from aihub_core.grpc_api.rpc import server_stream, unary
from aihub_core.limits.rules import Grant
from aihub_core.services.chat import ChatEngine, ContentPiece, PreparedChat
from aihub_core.services.chat_admission import chat_demand, check_fits_plan, token_estimate
from aihub_core.services.idempotency import Idempotency

# Admitted by the handler, once the token estimate is known.
CHAT = api_key("chat", demand=None)


class ChatServicer(pb_grpc.ChatServiceServicer):
    def __init__(self, gate: Gate, engine: ChatEngine, idempotency: Idempotency) -> None:
        self.gate = gate
        self._engine = engine
        self._idempotency = idempotency

    async def _admit(self, call: Call, chat: PreparedChat) -> Grant:
        tokens = token_estimate(chat)
        check_fits_plan(call.user, tokens)
        try:
            return await self.gate.admit_deferred(call, chat_demand(tokens))
        except RateLimitError:
            await self._engine.record_refused(chat)
            raise

    @unary(CHAT)
    async def Chat(self, request: pb.ChatRequest, call: Call) -> pb.ChatResponse:
        key = call.idempotency_key
        if not key:
            return await self._chat(request, call)
        stored = await self._idempotency.begin(
            call.user, key, "Chat", request.SerializeToString(deterministic=True), call.request_id
        )
        if stored is not None:
            await self.gate.send_current_limits(call)
            return pb.ChatResponse.FromString(stored)
        try:
            response = await self._chat(request, call)
        except BaseException:
            await self._idempotency.abandon(call.user, key)
            raise
        await self._idempotency.finish(call.user, key, response.SerializeToString())
        return response

    @server_stream(CHAT)
    async def StreamChat(
        self, request: pb.StreamChatRequest, call: Call
    ) -> AsyncGenerator[pb.StreamChatResponse, None]:
        key = call.idempotency_key
        if not key:
            async for event in self._stream(request, call, None):
                yield event
            return
        stored = await self._idempotency.begin(
            call.user, key, "StreamChat", request.SerializeToString(deterministic=True), call.request_id
        )
        if stored is not None:
            await self.gate.send_current_limits(call)
            for event in convert.replayed_stream(pb.ChatResponse.FromString(stored)):
                yield event
            return
        finished = False
        try:
            async for event in self._stream(request, call, key):
                finished = finished or event.HasField("session")
                yield event
        finally:
            if not finished:
                await self._idempotency.abandon(call.user, key)

    async def _chat(self, request: pb.ChatRequest, call: Call) -> pb.ChatResponse:
        prepared = await self._engine.prepare(call.user, convert.chat_params(request), call.request_id)
        grant = await self._admit(call, prepared)
        try:
            outcome = await self._engine.complete(prepared)
        except BaseException:
            self.gate.release(grant)
            raise
        self.gate.release(grant, outcome.usage.total_tokens)
        return convert.chat_response(outcome)

    async def _stream(
        self, request: pb.StreamChatRequest, call: Call, key: str | None
    ) -> AsyncIterator[pb.StreamChatResponse]:
        prepared = await self._engine.prepare(call.user, convert.chat_params(request), call.request_id)
        grant = await self._admit(call, prepared)
        events = self._engine.stream(prepared)
        used: int | None = None
        try:
            async for event in events:
                if isinstance(event, ContentPiece):
                    yield pb.StreamChatResponse(content=convert.content(event))
                    continue
                used = event.usage.total_tokens
                if key:
                    # Stored before the last events go out: a client that sees `done` can replay.
                    await self._idempotency.finish(
                        call.user, key, convert.chat_response(event).SerializeToString()
                    )
                yield pb.StreamChatResponse(session=pb.SessionEvent(session_id=event.session_id))
                yield pb.StreamChatResponse(
                    usage=pb.UsageEvent(usage=convert.usage(event), metadata=convert.chat_metadata(event))
                )
                yield pb.StreamChatResponse(done=pb.DoneEvent())
        finally:
            self.gate.release(grant, used)
            await events.aclose()
