"""Shared fixtures: a real core on port 0 (simulated upstreams, SQLite in tmp_path, a clock that
skips its waits) and the real shim over HTTP in front of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
import pytest

from aihub_cli.http_server import start_http
from aihub_core.app import Core
from aihub_core.settings import Settings
from aihub_http.app import create_app
from tests.fake_clock import FakeClock

TEST_JWT_SECRET = "test-secret-0123456789abcdef0123456789abcdef"

# How the shim reaches the core: `aihub serve`'s default (one process, the core's servicers
# called directly) and the separate-process mode's loopback gRPC. Shim tests run over both.
TRANSPORTS = ("in-process", "grpc")


def isolated_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Settings for an isolated core: ports 0, a fresh database, instant simulated upstreams."""
    values: dict[str, object] = {
        "grpc_port": 0,
        "http_port": 0,
        "database_url": f"sqlite:///{tmp_path / 'aihub.db'}",
        "jwt_secret": TEST_JWT_SECRET,
        "simulator_chunk_delay_ms": 0,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FakeClock:
    """The core's clock: real time, but a retry's backoff or a provider's Retry-After is skipped
    (and recorded) instead of waited for."""
    return FakeClock()


@pytest.fixture
async def core(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Core]:
    running = await Core.start(isolated_settings(tmp_path), clock=clock)
    try:
        yield running
    finally:
        await running.stop(grace=0)


@pytest.fixture
async def grpc_channel(core: Core) -> AsyncIterator[grpc.aio.Channel]:
    """Real gRPC over loopback only (reflection, client streaming)."""
    async with grpc.aio.insecure_channel(core.address) as ch:
        yield ch


@pytest.fixture(params=TRANSPORTS)
async def channel(core: Core, request: pytest.FixtureRequest) -> AsyncIterator[grpc.aio.Channel]:
    """A channel to `core`: real gRPC over loopback, or the in-process channel the shim uses
    (every test written against gRPC also checks that the two behave alike)."""
    if request.param == "in-process":
        yield core.local_channel()
        return
    async with grpc.aio.insecure_channel(core.address) as ch:
        yield ch


def shim_target(core: Core, transport: str) -> str | grpc.aio.Channel:
    """What `create_app` gets for `transport`: the core's in-process channel or its gRPC address."""
    return core.local_channel() if transport == "in-process" else core.address


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@asynccontextmanager
async def shim_client(core: Core, transport: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the real shim (uvicorn on a free port) in front of `core`."""
    server = await start_http(create_app(shim_target(core, transport)), "127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", timeout=30) as client:
            yield client
    finally:
        await server.stop()


@pytest.fixture
async def http(core: Core, transport: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the real shim (uvicorn on a free port) in front of `core`."""
    async with shim_client(core, transport) as client:
        yield client


@dataclass(frozen=True)
class Account:
    """A registered user with a JWT and an API key holding every permission."""

    email: str
    token: str
    key: str
    key_id: str

    @property
    def key_auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    @property
    def jwt_auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def make_account(
    http: httpx.AsyncClient, email: str = "dev@example.com", **key_body: object
) -> Account:
    """Register over REST and create one API key."""
    registered = await http.post("/v1/auth/register", json={"email": email, "password": "correct horse"})
    assert registered.status_code == 201, registered.text
    token = registered.json()["token"]
    body = {"name": "test key", **key_body}
    created = await http.post(
        "/v1/developer/api-keys", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert created.status_code == 201, created.text
    return Account(email, token, created.json()["key"], created.json()["id"])


@pytest.fixture
async def account(http: httpx.AsyncClient) -> Account:
    return await make_account(http)
