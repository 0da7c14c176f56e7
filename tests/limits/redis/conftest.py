"""Shared limits against a real Redis (AIHUB_TEST_REDIS_URL, default redis://127.0.0.1:6379/0).

Each test gets a key prefix of its own, and its keys are deleted after it; several admitters
started on one prefix stand for several gateway processes."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime

import pytest
from redis.asyncio import Redis

from aihub_core.limits.redis.admitter import RedisAdmitter
from aihub_core.limits.redis.connection import REDIS_ERRORS
from aihub_core.limits.rules import Demand
from tests.limits.redis.proxy import RedisProxy

REDIS_URL = os.environ.get("AIHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# A call that asks one request of the minute, as every key-authenticated RPC does.
REQUEST = Demand()


def chat(tokens: int = 0) -> Demand:
    """What a chat call asks: its token estimate, a concurrency slot, one call of the monthly quota."""
    return Demand(tokens, concurrent=True, counts_quota=True)


# 2026-03-10 12:00:05 UTC: 55 s before a minute boundary, in the middle of a month.
T0 = 1_773_144_005.0


class Clock:
    """A settable clock shared by every admitter of a test."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Ledger:
    """The ledger's monthly count, as `Store.count_requests` answers it; `gate` holds the answer."""

    def __init__(self, count: int = 0) -> None:
        self.count = count
        self.calls = 0
        self.called = asyncio.Event()
        self.gate: asyncio.Event | None = None

    async def count_requests(self, user_id: str, since: datetime) -> int:
        self.calls += 1
        self.called.set()
        if self.gate is not None:
            await self.gate.wait()
        return self.count


StartAdmitter = Callable[..., Awaitable[RedisAdmitter]]


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    """A plain client, to look at what the admitters wrote."""
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except REDIS_ERRORS as err:
        pytest.fail(f"these tests need Redis at {REDIS_URL} (set AIHUB_TEST_REDIS_URL): {err}")
    yield client
    await client.aclose()


@pytest.fixture
async def prefix(redis: Redis) -> AsyncIterator[str]:
    """A key prefix of this test's own; every key under it is deleted afterwards."""
    name = f"aihub-test:{secrets.token_hex(6)}:"
    yield name
    keys = [key async for key in redis.scan_iter(match=f"{name}*", count=500)]
    if keys:
        await redis.delete(*keys)


@pytest.fixture
async def proxy() -> AsyncIterator[RedisProxy]:
    """A relay to the test Redis, to cut it off or hold its replies."""
    relay = RedisProxy(REDIS_URL)
    await relay.start()
    try:
        yield relay
    finally:
        await relay.cut()


@pytest.fixture
def admitter_clock() -> Clock:
    """The admitters' clock (not the core's `clock` of tests/conftest.py)."""
    return Clock()


@pytest.fixture
def ledger() -> Ledger:
    return Ledger()


@pytest.fixture
async def start_admitter(prefix: str, admitter_clock: Clock, ledger: Ledger) -> AsyncIterator[StartAdmitter]:
    """Start admitters on the test's prefix (one per simulated process); all stop at the end."""
    started: list[RedisAdmitter] = []

    async def start(url: str = REDIS_URL, heartbeat_ttl: float = 10.0) -> RedisAdmitter:
        admitter = await RedisAdmitter.start(
            url, ledger, admitter_clock, prefix=prefix, heartbeat_ttl=heartbeat_ttl
        )
        started.append(admitter)
        return admitter

    yield start
    for admitter in started:
        await admitter.stop()


async def dump(redis: Redis, prefix: str) -> dict[str, object]:
    """Every counter under the prefix, as values (heartbeats left out: they only say who lives)."""
    out: dict[str, object] = {}
    async for raw in redis.scan_iter(match=f"{prefix}*", count=500):
        key = raw.decode()
        if key.startswith(f"{prefix}instance:"):
            continue
        kind = await redis.type(key)
        out[key] = sorted(await redis.smembers(key)) if kind == b"set" else await redis.get(key)
    return out


async def absent(redis: Redis, key: str) -> bool:
    return not await redis.exists(key)
