"""Failed logins throttled per address, per account and address, and per account (bounded): the
policy, on the counters of one process and on Redis's (as several workers share them)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from aihub_core.errors import RateLimitError
from aihub_core.limits.logins import (
    InProcessLoginCounters,
    LoginCounters,
    LoginPolicy,
    LoginThrottle,
    client_network,
)
from aihub_core.limits.redis.logins import RedisLoginCounters
from tests.limits.redis.conftest import REDIS_URL

POLICY = LoginPolicy()
VICTIM = "victim@example.com"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["in-process", "redis"])
async def counters(
    request: pytest.FixtureRequest, clock: Clock
) -> AsyncIterator[Callable[[], LoginCounters]]:
    """Makes the counters of one process; on Redis, every one made shares the test's prefix, as
    the workers of `aihub serve --workers N` do."""
    if request.param == "in-process":
        shared = InProcessLoginCounters(clock)
        yield lambda: shared
        return
    client = Redis.from_url(REDIS_URL)
    prefix = f"aihub-test-{secrets.token_hex(6)}:"
    try:
        yield lambda: RedisLoginCounters(client, prefix)
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def refusal(throttle: LoginThrottle, email: str, address: str) -> RateLimitError:
    with pytest.raises(RateLimitError) as refused:
        await throttle.check(email, address)
    assert refused.value.code == "too_many_failed_logins"
    return refused.value


async def fail(throttle: LoginThrottle, email: str, address: str, times: int) -> None:
    for _ in range(times):
        await throttle.check(email, address)
        await throttle.failed(email, address)


async def test_an_account_from_one_address_gets_five_tries_per_window(
    counters: Callable[[], LoginCounters],
) -> None:
    worker_1, worker_2 = LoginThrottle(counters()), LoginThrottle(counters())
    await fail(worker_1, VICTIM, "203.0.113.7", 3)
    await fail(worker_2, VICTIM, "203.0.113.7", 2)  # another worker counts on the same counters
    refused = await refusal(worker_1, VICTIM, "203.0.113.7")
    assert refused.details == {"scope": "account_address"}
    assert 0 < refused.retry_after <= POLICY.window_seconds
    assert "try again in" in refused.message
    # The owner, from their own address, is not locked out by a guesser elsewhere.
    await worker_2.check(VICTIM, "198.51.100.1")
    await worker_2.check("VICTIM@example.com ", "203.0.113.8")


async def test_an_address_gets_twenty_failures_whatever_the_accounts(
    counters: Callable[[], LoginCounters],
) -> None:
    throttle = LoginThrottle(counters())
    for n in range(POLICY.per_address):
        await fail(throttle, f"user{n}@example.com", "203.0.113.7", 1)
    refused = await refusal(throttle, "anyone-else@example.com", "203.0.113.7")
    assert refused.details == {"scope": "address"}
    # A success of the address's own account does not reset it: that would let a guesser who has
    # an account of their own go on guessing.
    await throttle.succeeded("user0@example.com", "203.0.113.7")
    assert (await refusal(throttle, "anyone-else@example.com", "203.0.113.7")).details == {"scope": "address"}


async def test_a_success_resets_its_own_address_for_the_account_and_no_other(
    counters: Callable[[], LoginCounters],
) -> None:
    throttle = LoginThrottle(counters())
    await fail(throttle, VICTIM, "198.51.100.1", 4)  # the owner mistypes
    await fail(throttle, VICTIM, "203.0.113.7", 5)  # a guesser
    await throttle.succeeded(VICTIM, "198.51.100.1")
    await fail(throttle, VICTIM, "198.51.100.1", 4)  # four more: their count started again
    assert (await refusal(throttle, VICTIM, "203.0.113.7")).details == {"scope": "account_address"}


async def test_many_addresses_guessing_one_account_close_it_to_new_addresses_only(
    counters: Callable[[], LoginCounters],
) -> None:
    throttle = LoginThrottle(counters())
    await throttle.succeeded(VICTIM, "198.51.100.1")  # the owner's usual address
    for n in range(POLICY.per_account // POLICY.per_account_address):
        await fail(throttle, VICTIM, f"203.0.113.{n + 10}", POLICY.per_account_address)
    refused = await refusal(throttle, VICTIM, "192.0.2.200")
    assert refused.details == {"scope": "account"}
    await throttle.check(VICTIM, "198.51.100.1")  # the owner still gets in from where they log in
    await throttle.check("other@example.com", "192.0.2.200")  # and other accounts are not touched


async def test_every_refusal_ends_with_its_window(clock: Clock) -> None:
    throttle = LoginThrottle(InProcessLoginCounters(clock))
    for n in range(POLICY.per_account // POLICY.per_account_address):
        await fail(throttle, VICTIM, f"203.0.113.{n + 10}", POLICY.per_account_address)
    for n in range(POLICY.per_address):
        await fail(throttle, f"user{n}@example.com", "192.0.2.1", 1)
    clock.now += 600
    assert (await refusal(throttle, VICTIM, "203.0.113.10")).retry_after == POLICY.window_seconds - 600
    assert (await refusal(throttle, VICTIM, "192.0.2.99")).details == {"scope": "account"}
    clock.now += POLICY.window_seconds - 600
    await throttle.check(VICTIM, "203.0.113.10")
    await throttle.check(VICTIM, "192.0.2.99")
    await throttle.check("b@example.com", "192.0.2.1")


@pytest.mark.parametrize("counters", ["redis"], indirect=True)
async def test_the_redis_counters_cannot_outlive_their_window(counters: Callable[[], LoginCounters]) -> None:
    made = counters()
    assert isinstance(made, RedisLoginCounters)
    await made.count(["address:192.0.2.1"], 900)
    ((count, left),) = await made.windows(["address:192.0.2.1"])
    assert count == 1 and 899 < left <= 900
    await made.count(["address:192.0.2.1"], 900)  # a second count keeps the first one's window
    ((count, left),) = await made.windows(["address:192.0.2.1"])
    assert count == 2 and left <= 900


def test_an_ipv6_client_counts_by_its_64_network() -> None:
    assert (
        client_network("2001:db8:1:2:aaaa::1")
        == client_network("2001:db8:1:2:ffff::9")
        == "2001:db8:1:2::/64"
    )
    assert client_network("2001:db8:1:3::1") != client_network("2001:db8:1:2::1")
    assert client_network("::ffff:192.0.2.1") == "192.0.2.1"
    assert client_network("192.0.2.1") == "192.0.2.1"
    assert client_network("local:") == "local:"
