"""AuthService: register, login and log-out."""

from __future__ import annotations

from typing import Any

from aihub.v1 import auth_service_pb2 as pb
from aihub.v1 import auth_service_pb2_grpc as pb_grpc
from aihub_core.grpc_api import convert
from aihub_core.grpc_api.access import JWT, PUBLIC
from aihub_core.grpc_api.client_address import ClientAddresses
from aihub_core.grpc_api.gate import Call, Gate
from aihub_core.grpc_api.rpc import unary
from aihub_core.services.accounts import Accounts, Login


def _fields(login: Login) -> dict[str, Any]:
    """Register and Login answer with the same fields."""
    return {
        "user_id": login.user.id,
        "email": login.user.email,
        "token": login.token,
        "expires_at": convert.timestamp(login.expires_at),
        "role": login.user.role,
    }


class AuthServicer(pb_grpc.AuthServiceServicer):
    def __init__(self, gate: Gate, accounts: Accounts, clients: ClientAddresses | None = None) -> None:
        self.gate = gate
        self._accounts = accounts
        self._clients = clients or ClientAddresses()

    @unary(PUBLIC)
    async def Register(self, request: pb.RegisterRequest, call: Call) -> pb.RegisterResponse:
        login = await self._accounts.register(request.email, request.password)
        return pb.RegisterResponse(**_fields(login))

    @unary(PUBLIC)
    async def Login(self, request: pb.LoginRequest, call: Call) -> pb.LoginResponse:
        client = self._clients.of(call.context)
        login = await self._accounts.login(request.email, request.password, client)
        return pb.LoginResponse(**_fields(login))

    @unary(JWT)
    async def Logout(self, request: pb.LogoutRequest, call: Call) -> pb.LogoutResponse:
        # The gate has checked the header's shape and the token: what follows `Bearer ` is it.
        ended = await self._accounts.logout(call.authorization.strip().partition(" ")[2].strip())
        return pb.LogoutResponse(user_id=ended.user_id, expires_at=convert.timestamp(ended.expires_at))
