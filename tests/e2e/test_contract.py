"""Contract tests over the generated descriptors: every RPC is served and reachable over REST."""

from __future__ import annotations

import inspect

from aihub.v1 import (
    admin_service_pb2,
    auth_service_pb2,
    chat_service_pb2,
    embedding_service_pb2,
    key_service_pb2,
    model_service_pb2,
    usage_service_pb2,
)
from aihub_core.grpc_api.servicers.admin import AdminServicer
from aihub_core.grpc_api.servicers.auth import AuthServicer
from aihub_core.grpc_api.servicers.chat import ChatServicer
from aihub_core.grpc_api.servicers.embeddings import EmbeddingServicer
from aihub_core.grpc_api.servicers.keys import KeyServicer
from aihub_core.grpc_api.servicers.models import ModelServicer
from aihub_core.grpc_api.servicers.usage import UsageServicer
from aihub_http.routes import GRPC_ONLY_METHODS, ROUTES

SERVICERS = {
    "aihub.v1.AuthService": AuthServicer,
    "aihub.v1.ChatService": ChatServicer,
    "aihub.v1.ModelService": ModelServicer,
    "aihub.v1.UsageService": UsageServicer,
    "aihub.v1.KeyService": KeyServicer,
    "aihub.v1.EmbeddingService": EmbeddingServicer,
    "aihub.v1.AdminService": AdminServicer,
}
MODULES = (
    auth_service_pb2,
    chat_service_pb2,
    model_service_pb2,
    usage_service_pb2,
    key_service_pb2,
    embedding_service_pb2,
    admin_service_pb2,
)


def all_rpcs() -> list[tuple[str, str]]:
    out = []
    for module in MODULES:
        for service in module.DESCRIPTOR.services_by_name.values():
            out += [(service.full_name, method.name) for method in service.methods]
    return out


def test_every_rpc_has_a_gated_servicer_method() -> None:
    rpcs = all_rpcs()
    assert {s for s, _ in rpcs} == set(SERVICERS)
    for service, method in rpcs:
        handler = getattr(SERVICERS[service], method)
        assert hasattr(handler, "__aihub_access__"), f"{service}/{method} is not wrapped by the gate"
        base = SERVICERS[service].__mro__[1]
        assert handler is not getattr(base, method), f"{service}/{method} has no servicer"
        assert inspect.iscoroutinefunction(handler) or inspect.isasyncgenfunction(handler)


def test_every_rpc_has_a_rest_route() -> None:
    routed = {m for route in ROUTES for m in route.grpc_methods()}
    missing = {f"/{s}/{m}" for s, m in all_rpcs()} - routed - GRPC_ONLY_METHODS
    assert not missing, f"RPCs without a REST route: {sorted(missing)}"


def test_each_route_documents_the_credential_its_rpc_takes() -> None:
    # The OpenAPI security of a route is its table entry's `credential`; the core's access rule
    # decides what is accepted. They must say the same.
    for route in ROUTES:
        for rpc in (route.rpc, route.stream_rpc):
            if rpc is not None:
                servicer = SERVICERS[rpc.containing_service.full_name]
                access = getattr(servicer, rpc.name).__aihub_access__
                assert access.credential == route.credential, (route.path, rpc.name)
