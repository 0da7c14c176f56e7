"""Fixtures: a fake core on port 0, the shim in front of it on a real uvicorn, and a client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client import CollectorRegistry

from aihub_http import create_app
from tests.http.fakes import FakeCore, fake_core, serve_http


@pytest.fixture
async def fake() -> AsyncIterator[FakeCore]:
    async with fake_core() as running:
        yield running


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
async def shim_url(fake: FakeCore, registry: CollectorRegistry) -> AsyncIterator[str]:
    async with serve_http(create_app(f"127.0.0.1:{fake.port}", registry=registry)) as url:
        yield url


@pytest.fixture
async def api(shim_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=shim_url, timeout=10) as client:
        yield client
