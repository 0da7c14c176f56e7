"""A core counting its limits in this process or in Redis, with the real shim over HTTP in front
of it: for tests that must hold for both admitters."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from redis.asyncio import Redis

from aihub_cli.http_server import start_http
from aihub_core.app import Core
from aihub_http.app import create_app
from tests.conftest import isolated_settings
from tests.fake_clock import FakeClock
from tests.limits.redis.conftest import REDIS_URL

# The admitters a test runs against: `pytest.fixture(params=BACKENDS)`.
BACKENDS = ("in-process", "redis")


@asynccontextmanager
async def gateway(
    backend: str, tmp_path: Path, clock: FakeClock, **settings: object
) -> AsyncIterator[tuple[Core, httpx.AsyncClient]]:
    """A core on `backend` (its Redis keys under a prefix of its own, deleted afterwards) and an
    HTTP client for the shim in front of it."""
    prefix = f"aihub-test:{secrets.token_hex(6)}:"
    shared = {"redis_url": REDIS_URL, "redis_prefix": prefix} if backend == "redis" else {}
    core = await Core.start(isolated_settings(tmp_path, **settings, **shared), clock=clock)
    server = await start_http(create_app(core.local_channel()), "127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", timeout=30) as http:
            yield core, http
    finally:
        await server.stop()
        await core.stop(grace=0)
        if shared:
            redis = Redis.from_url(REDIS_URL)
            keys = [key async for key in redis.scan_iter(match=f"{prefix}*", count=500)]
            if keys:
                await redis.delete(*keys)
            await redis.aclose()
