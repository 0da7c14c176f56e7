"""API key management for the key's owner."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aihub_core.auth import api_keys
from aihub_core.errors import InvalidRequestError, NotFoundError
from aihub_core.identity import Caller
from aihub_core.limits.spend import BUDGET_PERIODS, SpendLimit
from aihub_core.pricing import PICO_PER_USD, printed
from aihub_core.store.base import ApiKeyRecord, RotatedSecret, Store, UserRecord

MAX_NAME = 100
# A key's budget: above 0 USD, at most a million USD per period.
MAX_BUDGET_USD = 1_000_000
MAX_KEYS_PER_USER = 100
DEFAULT_GRACE_SECONDS = 86_400
MAX_GRACE_SECONDS = 30 * 86_400


@dataclass(frozen=True)
class Rotation:
    """A rotated key, its new secret (shown once) and when its old secret stops working."""

    key: ApiKeyRecord
    secret: str
    old_secret_until: datetime


def _budget(budget: tuple[float, str] | None) -> tuple[int | None, str | None]:
    """A key's budget as stored: (limit in pico-USD, period), or (None, None)."""
    if budget is None:
        return None, None
    limit_usd, period = budget
    if not (math.isfinite(limit_usd) and 0 < limit_usd <= MAX_BUDGET_USD):
        raise InvalidRequestError(
            f"budget.limit_usd must be more than 0 and at most {MAX_BUDGET_USD}", param="budget.limit_usd"
        )
    if period not in BUDGET_PERIODS:
        raise InvalidRequestError("budget.period must be day or month", param="budget.period")
    # The budget as the client wrote it: 0.1 is 10^11 pico-USD, not the double nearest 0.1.
    return int(printed(limit_usd) * PICO_PER_USD), period


def budget_pico_usd(limit_usd: float, period: str) -> tuple[int, str]:
    """A budget as the stores keep it: (limit in pico-USD, period); an InvalidRequestError if bad."""
    limit, kept = _budget((limit_usd, period))
    assert limit is not None and kept is not None
    return limit, kept


def user_budget(user: UserRecord) -> SpendLimit | None:
    """The user's own budget as the limits take it."""
    if user.budget_pico_usd is None or user.budget_period is None:
        return None
    return SpendLimit(user.budget_pico_usd, user.budget_period)


def key_budget(key: ApiKeyRecord) -> SpendLimit | None:
    """The key's budget as the limits take it."""
    if key.budget_pico_usd is None or key.budget_period is None:
        return None
    return SpendLimit(key.budget_pico_usd, key.budget_period)


class KeyManager:
    """Create, list and delete the caller's own keys."""

    def __init__(self, store: Store, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._store = store
        self._now = now

    async def create(
        self,
        caller: Caller,
        name: str,
        permissions: tuple[str, ...] | None,
        requests_per_minute: int | None,
        expires_at: datetime | None = None,
        budget: tuple[float, str] | None = None,
    ) -> tuple[ApiKeyRecord, str]:
        """A new key and its secret, which is never stored and never shown again; `permissions`
        None grants all of them, an empty tuple is refused; `expires_at`, if given, must be in
        the future."""
        name = name.strip()
        if expires_at is not None and expires_at <= self._now():
            raise InvalidRequestError("expires_at must be in the future", param="expires_at")
        if not 1 <= len(name) <= MAX_NAME:
            raise InvalidRequestError(f"name must be 1 to {MAX_NAME} characters", param="name")
        granted = api_keys.validate_permissions(permissions)
        limit, period = _budget(budget)
        plan_rpm = caller.plan.requests_per_minute
        if requests_per_minute is not None and (
            requests_per_minute < 1 or (plan_rpm and requests_per_minute > plan_rpm)
        ):
            raise InvalidRequestError(
                "rate_limit.requests_per_minute must be between 1 and the "
                f"{caller.plan.name} plan's {plan_rpm}",
                code="invalid_rate_limit",
                param="rate_limit.requests_per_minute",
            )
        if len(await self._store.list_api_keys(caller.user_id)) >= MAX_KEYS_PER_USER:
            raise InvalidRequestError(
                f"An account may hold at most {MAX_KEYS_PER_USER} keys; delete one first",
                code="too_many_keys",
            )
        new = api_keys.generate_api_key()
        record = ApiKeyRecord(
            id=api_keys.new_key_id(),
            user_id=caller.user_id,
            name=name,
            key_hash=new.key_hash,
            prefix=new.prefix,
            permissions=granted,
            requests_per_minute=requests_per_minute,
            created_at=self._now(),
            expires_at=expires_at,
            budget_pico_usd=limit,
            budget_period=period,
        )
        await self._store.create_api_key(record)
        return record, new.key

    async def list(self, caller: Caller) -> list[ApiKeyRecord]:
        """The caller's live keys, newest first."""
        return await self._store.list_api_keys(caller.user_id)

    async def delete(self, caller: Caller, key_id: str) -> None:
        """Delete one of the caller's keys; another user's key id is simply not found."""
        if not key_id or not await self._store.delete_api_key(caller.user_id, key_id):
            raise NotFoundError(f"No API key {key_id!r}", code="api_key_not_found", param="key_id")

    async def rotate(self, caller: Caller, key_id: str, grace_seconds: int | None) -> Rotation:
        """A new secret for one of the caller's keys; the old one works `grace_seconds` more
        (None: a day; 0: not at all). Another user's key id is simply not found."""
        grace = DEFAULT_GRACE_SECONDS if grace_seconds is None else grace_seconds
        if not 0 <= grace <= MAX_GRACE_SECONDS:
            raise InvalidRequestError(
                f"grace_seconds must be between 0 and {MAX_GRACE_SECONDS}", param="grace_seconds"
            )
        now = self._now()
        new = api_keys.generate_api_key()
        until = now + timedelta(seconds=grace)
        rotated = None
        if key_id:
            secret = RotatedSecret(new.key_hash, new.prefix, now, until)
            rotated = await self._store.rotate_api_key(caller.user_id, key_id, secret)
        if rotated is None:
            raise NotFoundError(f"No API key {key_id!r}", code="api_key_not_found", param="key_id")
        return Rotation(rotated, new.key, until)
