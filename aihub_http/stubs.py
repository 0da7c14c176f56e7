"""The gRPC client side: one channel to the core and its stubs, kept in lifespan state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

import grpc
from google.protobuf.descriptor import MethodDescriptor
from grpc_health.v1 import health_pb2_grpc

from aihub.v1 import (
    admin_service_pb2_grpc,
    auth_service_pb2_grpc,
    chat_service_pb2_grpc,
    embedding_service_pb2_grpc,
    key_service_pb2_grpc,
    model_service_pb2_grpc,
    usage_service_pb2_grpc,
)

# Images may total 20 MB of raw bytes, which is ~27 MB of base64 in a request message; the
# answers are small but a long session's reply should never hit gRPC's 4 MB default either.
CHANNEL_OPTIONS = (
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
)


@dataclass(frozen=True)
class Stubs:
    """One stub per core service, all on the same channel."""

    auth: auth_service_pb2_grpc.AuthServiceAsyncStub
    chat: chat_service_pb2_grpc.ChatServiceAsyncStub
    embeddings: embedding_service_pb2_grpc.EmbeddingServiceAsyncStub
    models: model_service_pb2_grpc.ModelServiceAsyncStub
    usage: usage_service_pb2_grpc.UsageServiceAsyncStub
    keys: key_service_pb2_grpc.KeyServiceAsyncStub
    admin: admin_service_pb2_grpc.AdminServiceAsyncStub
    health: Any  # grpc_health ships no type information

    @classmethod
    def on(cls, channel: grpc.aio.Channel) -> Stubs:
        """Stubs for every service the shim calls."""
        return cls(
            auth=auth_service_pb2_grpc.AuthServiceStub(channel),
            chat=chat_service_pb2_grpc.ChatServiceStub(channel),
            embeddings=embedding_service_pb2_grpc.EmbeddingServiceStub(channel),
            models=model_service_pb2_grpc.ModelServiceStub(channel),
            usage=usage_service_pb2_grpc.UsageServiceStub(channel),
            keys=key_service_pb2_grpc.KeyServiceStub(channel),
            admin=admin_service_pb2_grpc.AdminServiceStub(channel),
            health=health_pb2_grpc.HealthStub(channel),
        )

    def method(self, rpc: MethodDescriptor) -> Any:
        """The stub's multi-callable for `rpc`; the route table names RPCs by descriptor."""
        by_service: dict[str, object] = {
            "aihub.v1.AuthService": self.auth,
            "aihub.v1.ChatService": self.chat,
            "aihub.v1.EmbeddingService": self.embeddings,
            "aihub.v1.ModelService": self.models,
            "aihub.v1.UsageService": self.usage,
            "aihub.v1.KeyService": self.keys,
            "aihub.v1.AdminService": self.admin,
        }
        return getattr(by_service[rpc.containing_service.full_name], rpc.name)


class LifespanState(TypedDict):
    """What the lifespan hands every request (`request.state`)."""

    channel: grpc.aio.Channel
    stubs: Stubs
