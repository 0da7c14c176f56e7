"""EmbeddingService: CreateEmbeddings, an adapter of the chat use case's embeddings
(`aihub_core.chat.calls.ChatCalls.embed`)."""

from __future__ import annotations

import functools

from aihub.v1 import embedding_service_pb2 as pb
from aihub.v1 import embedding_service_pb2_grpc as pb_grpc
from aihub_core.chat.calls import ChatCalls, Replay
from aihub_core.chat.embeddings import EmbeddingOutcome
from aihub_core.grpc_api.access import api_key
from aihub_core.grpc_api.convert_completions import embedding_params, embeddings_response
from aihub_core.grpc_api.gate import Call, Gate
from aihub_core.grpc_api.rpc import unary
from aihub_core.grpc_api.servicers.chat import use_case_call

# A key with the `chat` permission; the use case admits the call with its inputs' token estimate.
EMBED = api_key("chat", demand=None)


def _stored(outcome: EmbeddingOutcome) -> bytes:
    return embeddings_response(outcome).SerializeToString()


class EmbeddingServicer(pb_grpc.EmbeddingServiceServicer):
    def __init__(self, gate: Gate, calls: ChatCalls) -> None:
        self.gate = gate
        self._calls = calls

    @unary(EMBED)
    async def CreateEmbeddings(
        self, request: pb.CreateEmbeddingsRequest, call: Call
    ) -> pb.CreateEmbeddingsResponse:
        read = functools.partial(embedding_params, request)
        answer = await self._calls.embed(
            use_case_call(self.gate, call, "CreateEmbeddings", request, read, _stored)
        )
        if isinstance(answer, Replay):
            return pb.CreateEmbeddingsResponse.FromString(answer.answer)
        return embeddings_response(answer)
