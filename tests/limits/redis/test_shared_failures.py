"""Redis missing: a clear error at start, and while running every call fails closed with the
spec's 503 `api_error` (nothing admitted unchecked), until Redis is back; no release is lost."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from aihub_core.app import Core
from aihub_core.errors import ConfigError, RateLimitError, ServiceUnavailableError
from aihub_core.identity import Caller
from aihub_core.limits.plans import Plan
from aihub_core.limits.redis.admitter import RedisAdmitter
from aihub_core.limits.redis.scripts import Keys
from tests.conftest import isolated_settings
from tests.limits.redis.conftest import (
    REQUEST,
    Client,
    Clock,
    Ledger,
    StartAdmitter,
    chat,
    lease_ended,
)
from tests.limits.redis.proxy import RedisProxy
from tests.waiting import eventually

CALLER = Caller("u1", Plan("p", 0, 0, 1, 0))  # one call in flight at a time


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://127.0.0.1:6379/0", "AIHUB_REDIS_URL is not a Redis URL"),
        ("redis://127.0.0.1:{port}/0", "AIHUB_REDIS_URL: cannot reach Redis at redis://127.0.0.1:{port}/0"),
        ("redis://me:hunter2@127.0.0.1:{port}/0", "cannot reach Redis at redis://me:***@127.0.0.1:{port}/0"),
    ],
)
async def test_a_bad_or_unreachable_url_stops_the_start(url: str, says: str) -> None:
    port = closed_port()
    with pytest.raises(ConfigError) as info:
        await RedisAdmitter.start(url.format(port=port), Ledger(), Clock())
    assert says.format(port=port) in str(info.value) and "hunter2" not in str(info.value)


async def test_a_core_does_not_start_without_its_redis(tmp_path: Path) -> None:
    settings = isolated_settings(tmp_path, redis_url=f"redis://127.0.0.1:{closed_port()}/0")
    with pytest.raises(ConfigError, match="AIHUB_REDIS_URL: cannot reach Redis"):
        await Core.start(settings)


async def test_losing_redis_fails_closed_and_the_queued_releases_arrive_when_it_is_back(
    proxy: RedisProxy, start_admitter: StartAdmitter
) -> None:
    admitter = await start_admitter(proxy.url)
    grant = await admitter.admit(CALLER, chat())
    await proxy.cut()
    with pytest.raises(ServiceUnavailableError) as info:
        await admitter.admit(CALLER, REQUEST)
    err = info.value
    assert (err.http_status, err.error_type, err.code) == (503, "api_error", "limiter_unavailable")
    for figures in (admitter.peek(CALLER), admitter.budget(CALLER), admitter.quota_used("u1")):
        with pytest.raises(ServiceUnavailableError):
            await figures
    with pytest.raises(ServiceUnavailableError):
        async with admitter.watch("u1"):
            pass
    admitter.release(grant)  # queued while Redis is away
    await proxy.start()
    await asyncio.wait_for(admitter.flush(), timeout=10)
    assert (await admitter.budget(CALLER)).in_flight == 0
    await admitter.admit(CALLER, chat())  # the slot came back


async def test_a_process_cut_off_for_longer_than_a_lease_puts_its_slots_back(
    proxy: RedisProxy, start_admitter: StartAdmitter, redis: Client, prefix: str
) -> None:
    cut_off = await start_admitter(proxy.url, lease=0.5)
    other = await start_admitter()
    await cut_off.admit(CALLER, chat())
    await proxy.cut()
    flight, slot = Keys(prefix).flight("u1"), f"{cut_off.instance_id}:1"
    await eventually(lambda: lease_ended(redis, flight, slot), "the lease ends")
    # Taken for dead, its slot is dropped by the next admission elsewhere...
    other.release(await other.admit(CALLER, chat()))
    await other.flush()
    assert await redis.zscore(flight, slot) is None
    await proxy.start()
    # ...and put back by its next renewal once Redis is reachable again.
    await eventually(lambda: redis.zscore(flight, slot), "the slot is back")
    with pytest.raises(RateLimitError) as info:
        await other.admit(CALLER, chat())
    assert info.value.code == "concurrency_limit_exceeded"


async def test_connections_a_redis_restart_closed_are_replaced_without_failing_a_call(
    proxy: RedisProxy,
    start_admitter: StartAdmitter,
) -> None:
    admitter = await start_admitter(proxy.url)
    await asyncio.gather(*(admitter.admit(CALLER, REQUEST) for _ in range(3)))  # three pooled
    await proxy.cut()
    await proxy.start()
    for _ in range(3):
        await admitter.admit(CALLER, REQUEST)
