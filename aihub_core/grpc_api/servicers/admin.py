"""AdminService: the operators' view of the accounts, plans, usage and services (an admin's JWT)."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

from aihub.v1 import admin_service_pb2 as pb
from aihub.v1 import admin_service_pb2_grpc as pb_grpc
from aihub_core.catalog import Catalog
from aihub_core.grpc_api import convert
from aihub_core.grpc_api.access import JWT
from aihub_core.grpc_api.gate import Call, Gate
from aihub_core.grpc_api.rpc import unary
from aihub_core.paging import page
from aihub_core.pricing import usd
from aihub_core.services.admin import AccountSummary, Admin


def _user(summary: AccountSummary) -> pb.AdminUser:
    user = summary.user
    budget = None
    if user.budget_pico_usd is not None and user.budget_period is not None:
        budget = pb.UserBudget(limit_usd=usd(user.budget_pico_usd), period=user.budget_period)
    return pb.AdminUser(
        id=user.id,
        email=user.email,
        plan=user.plan,
        role=user.role,
        created_at=convert.timestamp(user.created_at),
        month_requests=summary.month_requests,
        month_cost_usd=summary.month_cost_usd,
        budget=budget,
        plan_monthly_budget_usd=usd(summary.plan_budget or 0),
    )


class AdminServicer(pb_grpc.AdminServiceServicer):
    def __init__(self, gate: Gate, admin: Admin, catalog: Catalog, simulated: Mapping[str, bool]) -> None:
        self.gate = gate
        self._admin = admin
        self._catalog = catalog
        self._simulated = dict(simulated)
        self._process = f"{socket.gethostname()}:{os.getpid()}"

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

    @unary(JWT)
    async def SetUserBudget(self, request: pb.SetUserBudgetRequest, call: Call) -> pb.SetUserBudgetResponse:
        limit_usd = request.limit_usd if request.HasField("limit_usd") else None
        changed = await self._admin.set_budget(
            call.user, request.user_id.strip(), limit_usd, request.period.strip()
        )
        return pb.SetUserBudgetResponse(user=_user(changed))

    @unary(JWT)
    async def ListPlans(self, request: pb.ListPlansRequest, call: Call) -> pb.ListPlansResponse:
        plans = await self._admin.plans(call.user)
        return pb.ListPlansResponse(
            plans=[
                pb.AdminPlan(
                    name=plan.name,
                    builtin=builtin,
                    requests_per_minute=plan.requests_per_minute,
                    tokens_per_minute=plan.tokens_per_minute,
                    concurrent_requests=plan.concurrent_requests,
                    monthly_requests=plan.monthly_requests,
                    monthly_budget_usd=usd(plan.monthly_budget or 0),
                )
                for plan, builtin in plans
            ]
        )

    @unary(JWT)
    async def GetOverview(self, request: pb.GetOverviewRequest, call: Call) -> pb.GetOverviewResponse:
        found = await self._admin.overview(
            call.user, request.start_date.strip(), request.end_date.strip(), request.top_models
        )
        return pb.GetOverviewResponse(
            start_date=found.window.first.isoformat(),
            end_date=found.window.last.isoformat(),
            daily=[convert.daily_usage(d) for d in found.days],
            total_requests=sum(d.requests for d in found.days),
            total_tokens=sum(d.tokens for d in found.days),
            total_cost_usd=usd(sum(d.cost_pico_usd for d in found.days)),
            top_models=[
                pb.ModelUsage(
                    service=m.service,
                    model=m.model,
                    requests=m.requests,
                    tokens=m.tokens,
                    cost_usd=usd(m.cost_pico_usd),
                )
                for m in found.top_models
            ],
        )

    @unary(JWT)
    async def GetServiceHealth(
        self, request: pb.GetServiceHealthRequest, call: Call
    ) -> pb.GetServiceHealthResponse:
        services = [s.name for s in self._catalog.services]
        default = self._catalog.default_service.name
        found = await self._admin.health(call.user, services, default, self._simulated)
        return pb.GetServiceHealthResponse(
            services=[
                pb.ServiceHealth(
                    name=s.name,
                    simulated=s.simulated,
                    is_default=s.is_default,
                    status=s.status,
                    breakers=[
                        pb.ModelBreaker(model=b.model, state=b.state.value, retry_in_seconds=b.retry_in)
                        for b in s.breakers
                    ],
                )
                for s in found
            ],
            process=self._process,
        )
