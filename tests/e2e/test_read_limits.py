"""Reads (models, services, usage, quota, keys) count against neither the plan's requests per
minute nor the monthly quota, but against a read limit of their own per key, or per user with a
login token (issue 11, item 4); in one process and through Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from aihub_core.app import Core
from tests.conftest import Account, make_account
from tests.e2e import gateways
from tests.e2e.gateways import BACKENDS
from tests.fake_clock import FakeClock

DEV = "/v1/developer"
# The README's read calls, and which credential each takes.
READS = [
    ("/models", "key"),
    ("/services", "key"),
    ("/usage?period=day", "key"),
    ("/quota", "key"),
    ("/api-keys", "jwt"),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def shim(
    backend: str, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[tuple[Core, httpx.AsyncClient]]:
    async with gateways.gateway(backend, tmp_path, clock) as running:
        yield running


def auth(account: Account, credential: str) -> dict[str, str]:
    return account.key_auth if credential == "key" else account.jwt_auth


async def test_a_free_user_walking_the_reads_gets_no_429(
    shim: tuple[Core, httpx.AsyncClient], clock: FakeClock
) -> None:
    _, http = shim
    account = await make_account(http)  # the free plan: 20 requests a minute
    clock.clear_of_minute_boundary(margin=20)
    for _ in range(25):
        for path, credential in READS:
            answer = await http.get(DEV + path, headers=auth(account, credential))
            assert answer.status_code == 200, (path, answer.text)
    chat = await http.post(f"{DEV}/chat", json={"message": "hi"}, headers=account.key_auth)
    assert chat.status_code == 200
    assert (chat.headers["x-ratelimit-limit"], chat.headers["x-ratelimit-remaining"]) == ("20", "19")
    quota = (await http.get(f"{DEV}/quota", headers=account.key_auth)).json()
    assert quota["quota_used"] == 1  # the chat alone


@pytest.fixture
async def strict(
    backend: str, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[tuple[Core, httpx.AsyncClient]]:
    async with gateways.gateway(backend, tmp_path, clock, read_rate_limit=5) as running:
        yield running


async def test_reads_past_the_read_limit_get_the_specs_429(
    strict: tuple[Core, httpx.AsyncClient], clock: FakeClock
) -> None:
    _, http = strict
    clock.clear_of_minute_boundary(margin=20)
    account = await make_account(http)  # its key created with the login token: one of its 5
    for left in range(4, -1, -1):
        answer = await http.get(f"{DEV}/models", headers=account.key_auth)
        assert answer.status_code == 200
        assert (answer.headers["x-ratelimit-limit"], answer.headers["x-ratelimit-remaining"]) == (
            "5",
            str(left),
        )
    refused = await http.get(f"{DEV}/services", headers=account.key_auth)
    assert refused.status_code == 429
    body = refused.json()
    assert set(body) == {"error", "request_id"} and body["request_id"] == refused.headers["x-request-id"]
    error = body["error"]
    assert (error["type"], error["code"]) == ("rate_limit_error", "rate_limit_exceeded")
    assert error["details"]["limit"] == "5" and error["details"]["scope"] == "read"
    assert "read requests per minute" in error["message"]
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= 60 and refused.headers["x-ratelimit-remaining"] == "0"
    # Model calls are apart from reads, and the login token's reads are counted per user.
    assert (
        await http.post(f"{DEV}/chat", json={"message": "hi"}, headers=account.key_auth)
    ).status_code == 200
    for _ in range(4):
        assert (await http.get(f"{DEV}/api-keys", headers=account.jwt_auth)).status_code == 200
    assert (await http.get(f"{DEV}/api-keys", headers=account.jwt_auth)).status_code == 429
    clock.advance(retry_after)  # the next minute reads again
    assert (await http.get(f"{DEV}/models", headers=account.key_auth)).status_code == 200
