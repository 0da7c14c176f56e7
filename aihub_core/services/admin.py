"""The operators' use cases (AdminService): every account with this month's figures, and a plan
change. Only an admin's login token may call them; the role is read from the store on each call,
so a role taken away stops the next call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aihub_core.errors import NotFoundError, PermissionDeniedError
from aihub_core.identity import Caller
from aihub_core.limits.plans import Plans
from aihub_core.periods import month_start
from aihub_core.pricing import usd
from aihub_core.store.base import Store, UserRecord


@dataclass(frozen=True)
class AccountSummary:
    """One account and its calendar month so far (UTC): requests as the quota counts them, and
    the exact cost of its billable calls."""

    user: UserRecord
    month_requests: int
    month_cost_usd: float


class Admin:
    def __init__(
        self, store: Store, plans: Plans, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._store = store
        self._plans = plans
        self._now = now

    async def users(self, caller: Caller) -> list[UserRecord]:
        """Every account, oldest first."""
        await self._require_admin(caller)
        return await self._store.list_users()

    async def summaries(self, users: list[UserRecord]) -> list[AccountSummary]:
        """This month's figures of `users` (a page of `users()`: they cost two reads each)."""
        return [await self._summary(user) for user in users]

    async def set_plan(self, caller: Caller, user_id: str, plan: str) -> AccountSummary:
        """Move the account to `plan` (a known one: InvalidRequestError otherwise)."""
        await self._require_admin(caller)
        self._plans.require(plan)
        user = await self._store.get_user(user_id)
        if user is None or not await self._store.set_plan(user.email, plan):
            raise NotFoundError(f"No account with id {user_id}", code="not_found", param="user_id")
        changed = await self._store.get_user(user_id)
        return await self._summary(changed or user)

    async def _require_admin(self, caller: Caller) -> None:
        user = await self._store.get_user(caller.user_id)
        if user is None or user.role != "admin" or caller.key_id is not None:
            raise PermissionDeniedError("This call is for the gateway's admins only", code="admin_only")

    async def _summary(self, user: UserRecord) -> AccountSummary:
        now = self._now()
        first = month_start(now)
        requests = await self._store.count_requests(user.id, first)
        days = await self._store.daily_usage(user.id, first.date(), now.date())
        return AccountSummary(user, requests, usd(sum(d.cost_pico_usd for d in days)))
