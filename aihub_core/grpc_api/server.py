"""The grpc.aio server: our services, health checking and reflection."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from aihub.v1 import (
    admin_service_pb2,
    admin_service_pb2_grpc,
    auth_service_pb2,
    auth_service_pb2_grpc,
    chat_service_pb2,
    chat_service_pb2_grpc,
    embedding_service_pb2,
    embedding_service_pb2_grpc,
    key_service_pb2,
    key_service_pb2_grpc,
    model_service_pb2,
    model_service_pb2_grpc,
    usage_service_pb2,
    usage_service_pb2_grpc,
)
from aihub_core.grpc_api.servicers.admin import AdminServicer
from aihub_core.grpc_api.servicers.auth import AuthServicer
from aihub_core.grpc_api.servicers.chat import ChatServicer
from aihub_core.grpc_api.servicers.embeddings import EmbeddingServicer
from aihub_core.grpc_api.servicers.keys import KeyServicer
from aihub_core.grpc_api.servicers.models import ModelServicer
from aihub_core.grpc_api.servicers.usage import UsageServicer
from aihub_core.inprocess.channel import LocalChannel, method_table
from aihub_core.ports import Port

# Each service's descriptor, and the Servicers attribute that serves it.
_SERVICES = tuple(
    (module.DESCRIPTOR.services_by_name[name], attribute)
    for module, name, attribute in (
        (auth_service_pb2, "AuthService", "auth"),
        (chat_service_pb2, "ChatService", "chat"),
        (embedding_service_pb2, "EmbeddingService", "embeddings"),
        (model_service_pb2, "ModelService", "models"),
        (usage_service_pb2, "UsageService", "usage"),
        (key_service_pb2, "KeyService", "keys"),
        (admin_service_pb2, "AdminService", "admin"),
    )
)
SERVICE_NAMES = tuple(service.full_name for service, _ in _SERVICES)

# Large enough for a message with several inline images (spec: up to 20 MB of images).
MAX_MESSAGE_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class Servicers:
    auth: AuthServicer
    chat: ChatServicer
    models: ModelServicer
    usage: UsageServicer
    keys: KeyServicer
    embeddings: EmbeddingServicer
    admin: AdminServicer


@dataclass
class RunningServer:
    """A started server, its bound port and its health servicer."""

    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer
    servicers: Servicers

    def local_channel(self) -> LocalChannel:
        """A channel to these same servicers (and health checks) that never leaves the process."""
        ours = [(service, getattr(self.servicers, attribute)) for service, attribute in _SERVICES]
        checker = (health_pb2.DESCRIPTOR.services_by_name["Health"], self.health)
        methods = method_table([*ours, checker])
        # Health.Watch writes through context.write, which has no in-process form: Check only.
        del methods["/grpc.health.v1.Health/Watch"]
        return LocalChannel(methods)

    async def stop(self, grace: float) -> None:
        """Flip health to NOT_SERVING, then let in-flight calls finish for up to `grace` seconds."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)


async def start_server(
    servicers: Servicers, host: str, port: int, *, reuse_port: bool = False
) -> RunningServer:
    """Bind host:port (0 picks a free port), start serving and report SERVING.

    `reuse_port`: share the port with the other worker processes (the kernel spreads new
    connections over them); otherwise a port another process holds is an error."""
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.so_reuseport", int(reuse_port)),
        ]
    )
    auth_service_pb2_grpc.add_AuthServiceServicer_to_server(servicers.auth, server)
    chat_service_pb2_grpc.add_ChatServiceServicer_to_server(servicers.chat, server)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(servicers.models, server)
    usage_service_pb2_grpc.add_UsageServiceServicer_to_server(servicers.usage, server)
    key_service_pb2_grpc.add_KeyServiceServicer_to_server(servicers.keys, server)
    embedding_service_pb2_grpc.add_EmbeddingServiceServicer_to_server(servicers.embeddings, server)
    admin_service_pb2_grpc.add_AdminServiceServicer_to_server(servicers.admin, server)
    checker = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    reflection.enable_server_reflection(
        (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    where = Port(host, port, "gRPC", "--grpc-port")
    if not reuse_port:
        # gRPC's own failure is a RuntimeError without the reason (and a C-level log line).
        where.check_free()
    try:
        bound = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError:
        raise where.error(OSError(errno.EADDRINUSE, os.strerror(errno.EADDRINUSE))) from None
    await server.start()
    for name in (*SERVICE_NAMES, health.OVERALL_HEALTH):
        await checker.set(name, health_pb2.HealthCheckResponse.SERVING)
    return RunningServer(server, bound, checker, servicers)
