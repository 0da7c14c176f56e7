"""Shared limits against a real Redis (AIHUB_TEST_REDIS_URL, default redis://127.0.0.1:6379/0),
and, for the tests marked `ON_BOTH`, also against a three-node Redis Cluster that the tests start
themselves (local_cluster.py, once per run, when the first test needs it).

Each test gets a key prefix of its own, and its keys are deleted after it; several admitters
started on one prefix stand for several gateway processes."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from aihub_core.limits.redis.admitter import RedisAdmitter
from aihub_core.limits.redis.connection import REDIS_ERRORS
from aihub_core.limits.rules import Demand
from tests.limits.redis.local_cluster import LocalCluster
from tests.limits.redis.proxy import RedisProxy

REDIS_URL = os.environ.get("AIHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# A test so marked runs on one Redis server and on a Redis Cluster.
ON_BOTH = pytest.mark.parametrize("redis_url", ["single", "cluster"], indirect=True)
# What a test looks at Redis with: a plain client, or a cluster client.
Client = Redis | RedisCluster
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
        # What `key_spent` answers: the pico-USD the ledger settled for a key, and who asked since when.
        self.spent = 0
        self.spent_asked: list[tuple[str, datetime]] = []
        self.calls = 0
        self.called = asyncio.Event()
        self.gate: asyncio.Event | None = None

    async def count_requests(self, user_id: str, since: datetime) -> int:
        self.calls += 1
        self.called.set()
        if self.gate is not None:
            await self.gate.wait()
        return self.count

    async def key_spent(self, key_id: str, since: datetime) -> int:
        self.spent_asked.append((key_id, since))
        return self.spent

    async def user_spent(self, user_id: str, since: datetime) -> int:
        self.spent_asked.append((user_id, since))
        return self.spent


StartAdmitter = Callable[..., Awaitable[RedisAdmitter]]


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A three-node Redis Cluster started for this run."""
    cluster = LocalCluster(Path(tmp_path_factory.mktemp("redis-cluster")))
    try:
        cluster.start()
    except Exception as err:
        cluster.stop()
        pytest.fail(f"could not start the test Redis Cluster: {err}")
    yield cluster
    cluster.stop()


@pytest.fixture
def redis_url(request: pytest.FixtureRequest) -> str:
    """The URL the admitters use: the test Redis, or (`ON_BOTH`'s "cluster") the test cluster's."""
    if getattr(request, "param", "single") == "cluster":
        cluster: LocalCluster = request.getfixturevalue("redis_cluster")
        return cluster.url
    return REDIS_URL


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Client]:
    """A client of the admitters' Redis, to look at what they wrote."""
    client: Client = Redis.from_url(redis_url)
    try:
        if int((await client.info("cluster")).get("cluster_enabled", 0)):
            await client.aclose()
            client = RedisCluster.from_url(redis_url)
            await client.initialize()
    except REDIS_ERRORS as err:
        await client.aclose()
        pytest.fail(f"these tests need Redis at {redis_url} (set AIHUB_TEST_REDIS_URL): {err}")
    yield client
    await client.aclose()


@pytest.fixture
async def prefix(redis: Client) -> AsyncIterator[str]:
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
async def start_admitter(
    redis_url: str, prefix: str, admitter_clock: Clock, ledger: Ledger
) -> AsyncIterator[StartAdmitter]:
    """Start admitters on the test's prefix (one per simulated process); all stop at the end."""
    started: list[RedisAdmitter] = []

    async def start(url: str = redis_url, lease: float = 10.0) -> RedisAdmitter:
        admitter = await RedisAdmitter.start(url, ledger, admitter_clock, prefix=prefix, lease=lease)
        started.append(admitter)
        return admitter

    yield start
    for admitter in started:
        await admitter.stop()


async def dump(redis: Client, prefix: str) -> dict[str, object]:
    """Every counter under the prefix, as values (the flight sets as their members: the leases'
    ends move whenever their holder renews them)."""
    out: dict[str, object] = {}
    async for raw in redis.scan_iter(match=f"{prefix}*", count=500):
        key = raw.decode()
        kind = await redis.type(key)
        out[key] = await redis.zrange(key, 0, -1) if kind == b"zset" else await redis.get(key)
    return out


async def absent(redis: Client, key: str) -> bool:
    return not await redis.exists(key)


async def flight_members(redis: Client, flight: str) -> list[str]:
    """The members of a flight set: one per call in flight, `{instance}:{n}`."""
    return [m.decode() if isinstance(m, bytes) else str(m) for m in await redis.zrange(flight, 0, -1)]


async def lease_ended(redis: Client, flight: str, member: str) -> bool:
    """Whether the member's lease in the flight set has run out, on the Redis clock (or it is gone)."""
    end = await redis.zscore(flight, member)
    seconds, micros = await redis.time()
    return end is None or end <= seconds * 1000 + micros // 1000
