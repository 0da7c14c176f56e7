"""AI Hub's REST/SSE shim: the documented JSON API, translated to gRPC calls on the core."""

from aihub_http.app import create_app
from aihub_http.options import ShimOptions
from aihub_http.routes import ROUTES, RpcRoute, grpc_methods

__all__ = ["ROUTES", "RpcRoute", "ShimOptions", "create_app", "grpc_methods"]
