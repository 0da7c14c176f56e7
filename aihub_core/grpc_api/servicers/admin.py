"""AdminService: the operators' view of the accounts (an admin's JWT)."""

from __future__ import annotations

from aihub.v1 import admin_service_pb2 as pb
from aihub.v1 import admin_service_pb2_grpc as pb_grpc
from aihub_core.grpc_api import convert
from aihub_core.grpc_api.access import JWT
from aihub_core.grpc_api.gate import Call, Gate
from aihub_core.grpc_api.rpc import unary
from aihub_core.paging import page
from aihub_core.services.admin import AccountSummary, Admin


def _user(summary: AccountSummary) -> pb.AdminUser:
    user = summary.user
    return pb.AdminUser(
        id=user.id,
        email=user.email,
        plan=user.plan,
        role=user.role,
        created_at=convert.timestamp(user.created_at),
        month_requests=summary.month_requests,
        month_cost_usd=summary.month_cost_usd,
    )


class AdminServicer(pb_grpc.AdminServiceServicer):
    def __init__(self, gate: Gate, admin: Admin) -> None:
        self.gate = gate
        self._admin = admin

    @unary(JWT)
    async def ListUsers(self, request: pb.ListUsersRequest, call: Call) -> pb.ListUsersResponse:
        users = await self._admin.users(call.user)
        items, next_token = page(users, request.page_size, request.page_token)
        summaries = await self._admin.summaries(items)
        return pb.ListUsersResponse(
            users=[_user(s) for s in summaries], total_count=len(users), next_page_token=next_token
        )

    @unary(JWT)
    async def SetUserPlan(self, request: pb.SetUserPlanRequest, call: Call) -> pb.SetUserPlanResponse:
        moved = await self._admin.set_plan(call.user, request.user_id.strip(), request.plan.strip())
        return pb.SetUserPlanResponse(user=_user(moved))
