"""Failed-login counters on a Redis Cluster: one transaction counts an address, an account and the
pair together, so every login key must live in one slot (the `{login}` hash tag)."""

from __future__ import annotations

import secrets
from contextlib import AsyncExitStack

import pytest

from aihub_core.errors import RateLimitError
from aihub_core.limits.factory import start_login_throttle
from aihub_core.limits.logins import LoginPolicy
from tests.limits.redis.conftest import ON_BOTH, Client


@ON_BOTH
async def test_failed_logins_are_counted_and_refused_on_one_server_or_a_cluster(
    redis_url: str, redis: Client
) -> None:
    prefix = f"aihub-test-{secrets.token_hex(6)}:"
    policy = LoginPolicy()
    async with AsyncExitStack() as stack:
        throttle = await start_login_throttle(redis_url, stack, prefix=prefix)
        for _ in range(policy.per_account_address):
            await throttle.check("victim@example.com", "203.0.113.7")
            await throttle.failed("victim@example.com", "203.0.113.7")
        with pytest.raises(RateLimitError) as refused:
            await throttle.check("victim@example.com", "203.0.113.7")
        assert refused.value.code == "too_many_failed_logins"
    keys = [key async for key in redis.scan_iter(match=f"{prefix}*")]
    try:
        assert keys and all(b"{login}:" in key for key in keys)
        assert all([await redis.pttl(key) > 0 for key in keys])  # no counter outlives its window
    finally:
        for key in keys:
            await redis.delete(key)
