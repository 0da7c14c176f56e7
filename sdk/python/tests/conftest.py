"""Make `ai_hub` importable from a checkout (unless it is installed) and provide fake gateways."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

HERE = Path(__file__).resolve().parent
if importlib.util.find_spec("ai_hub") is None:
    sys.path.insert(0, str(HERE.parent))
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from ai_hub_fakes import BASE_URL, FakeGateway  # noqa: E402

from ai_hub import AIHub, AsyncAIHub  # noqa: E402


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def make_client(gateway: FakeGateway) -> Iterator[Callable[..., AIHub]]:
    """Build sync clients on the fake gateway: `make_client(max_retries=0, token="jwt")`."""
    http = httpx.Client(transport=httpx.MockTransport(gateway.handle))

    def make(**options: Any) -> AIHub:
        options = {"api_key": "ai-hub-test-key", "base_url": BASE_URL, **options}
        hub = AIHub(http_client=http, **options)
        hub._sleep = gateway.sleeps.append
        return hub

    yield make
    http.close()


@pytest.fixture
def client(make_client: Callable[..., AIHub]) -> AIHub:
    return make_client()


@pytest.fixture
async def async_client(gateway: FakeGateway) -> AsyncIterator[AsyncAIHub]:
    async def sleep(seconds: float) -> None:
        gateway.sleeps.append(seconds)

    http = httpx.AsyncClient(transport=httpx.MockTransport(gateway.handle))
    async with AsyncAIHub(api_key="ai-hub-test-key", base_url=BASE_URL, http_client=http) as hub:
        hub._sleep = sleep
        yield hub
    await http.aclose()
