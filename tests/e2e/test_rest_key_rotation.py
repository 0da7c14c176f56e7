"""API key rotation and expiry over REST: the new secret at once, the old one for its grace (on
every replica), `api_key_expired` after, and keys that expire on their own. Time moves on the
core's clock (`FakeClock.advance`), never by waiting."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from aihub_core.app import Core
from tests.conftest import Account, isolated_settings, make_account, shim_client
from tests.fake_clock import FakeClock
from tests.postgres import postgres_schema

DEV = "/v1/developer"


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def works(http: httpx.AsyncClient, secret: str) -> bool:
    """Whether the secret authenticates a call; any refusal but `api_key_expired` fails the test."""
    answer = await http.get(f"{DEV}/quota", headers=bearer(secret))
    if answer.status_code == 200:
        return True
    error = answer.json()["error"]
    assert (answer.status_code, error["type"], error["code"]) == (
        401,
        "authentication_error",
        "api_key_expired",
    )
    return False


async def rotate(http: httpx.AsyncClient, account: Account, **body: object) -> dict[str, object]:
    answer = await http.post(f"{DEV}/api-keys/{account.key_id}/rotate", json=body, headers=account.jwt_auth)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_rotation_keeps_the_key_and_the_old_secret_works_for_a_day(
    http: httpx.AsyncClient, clock: FakeClock
) -> None:
    account = await make_account(http, permissions=["usage", "chat"], rate_limit={"requests_per_minute": 7})
    assert await works(http, account.key)
    rotated = await rotate(http, account)
    new = str(rotated["key"])
    assert new != account.key and new.startswith("ai-hub-")
    assert rotated["id"] == account.key_id and rotated["name"] == "test key"
    assert rotated["permissions"] == ["chat", "usage"]
    assert rotated["rate_limit"] == {"requests_per_minute": 7}
    rotated_at = datetime.fromisoformat(str(rotated["rotated_at"]))
    until = datetime.fromisoformat(str(rotated["previous_key_expires_at"]))
    assert until - rotated_at == timedelta(days=1)

    listed = (await http.get(f"{DEV}/api-keys", headers=account.jwt_auth)).json()["api_keys"]
    assert [(k["id"], k["prefix"], k["rotated_at"]) for k in listed] == [
        (account.key_id, new[:12], rotated["rotated_at"])
    ]
    assert listed[0]["last_used"] is not None and listed[0]["expires_at"] is None

    assert await works(http, new) and await works(http, account.key)
    clock.advance(86_400 - 5)
    assert await works(http, account.key)
    clock.advance(6)
    assert not await works(http, account.key)
    assert await works(http, new)
    refused = await http.get(f"{DEV}/quota", headers=account.key_auth)
    assert "rotated" in refused.json()["error"]["message"]
    # A chat with the old secret is refused before anything is counted.
    chat = await http.post(f"{DEV}/chat", json={"message": "hi"}, headers=account.key_auth)
    assert chat.status_code == 401 and chat.json()["error"]["code"] == "api_key_expired"


async def test_grace_zero_ends_the_old_secret_at_once(http: httpx.AsyncClient, account: Account) -> None:
    assert await works(http, account.key)  # cached by the gateway now
    rotated = await rotate(http, account, grace_seconds=0)
    assert rotated["previous_key_expires_at"] == rotated["rotated_at"]
    assert not await works(http, account.key)
    assert await works(http, str(rotated["key"]))
    # Rotating again: the first secret stays refused as expired, not unknown.
    again = await rotate(http, account, grace_seconds=60)
    assert not await works(http, account.key)
    assert await works(http, str(rotated["key"])) and await works(http, str(again["key"]))


async def test_rotation_refusals(http: httpx.AsyncClient, account: Account) -> None:
    other = await make_account(http, "other@example.com")
    foreign = await http.post(f"{DEV}/api-keys/{other.key_id}/rotate", json={}, headers=account.jwt_auth)
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "api_key_not_found"
    too_long = await http.post(
        f"{DEV}/api-keys/{account.key_id}/rotate", json={"grace_seconds": 2_592_001}, headers=account.jwt_auth
    )
    assert too_long.status_code == 400 and too_long.json()["error"]["details"]["parameter"] == "grace_seconds"
    with_key = await http.post(f"{DEV}/api-keys/{account.key_id}/rotate", json={}, headers=account.key_auth)
    assert with_key.status_code == 401
    assert await works(http, account.key)  # nothing was rotated


async def test_a_key_expires_at_its_expires_at(http: httpx.AsyncClient, clock: FakeClock) -> None:
    expires = (clock.now() + timedelta(hours=1)).replace(microsecond=0)
    stamp = expires.isoformat().replace("+00:00", "Z")
    account = await make_account(http, expires_at=stamp)
    listed = (await http.get(f"{DEV}/api-keys", headers=account.jwt_auth)).json()["api_keys"]
    assert listed[0]["expires_at"] == stamp and listed[0]["rotated_at"] is None
    assert await works(http, account.key)
    clock.advance(3600 - 2)
    assert await works(http, account.key)
    clock.advance(3)
    assert not await works(http, account.key)
    refused = await http.get(f"{DEV}/quota", headers=account.key_auth)
    assert refused.json()["error"]["message"] == f"This API key expired at {stamp}"
    # Rotating does not extend an expired key.
    rotated = await rotate(http, account)
    assert rotated["expires_at"] == stamp and not await works(http, str(rotated["key"]))

    past = await http.post(
        f"{DEV}/api-keys",
        json={"name": "late", "expires_at": "2020-01-01T00:00:00Z"},
        headers=account.jwt_auth,
    )
    assert past.status_code == 400 and past.json()["error"]["details"]["parameter"] == "expires_at"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def replicas(
    tmp_path: Path, clock: FakeClock, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[Core, Core]]:
    """Two gateways on one database (a SQLite file, or a PostgreSQL schema), as replicas behind a
    load balancer are."""
    async with contextlib.AsyncExitStack() as stack:
        url = f"sqlite:///{tmp_path / 'aihub.db'}"
        if request.param == "postgres":
            url = (await stack.enter_async_context(postgres_schema())).url
        cores = []
        for _ in range(2):
            core = await Core.start(isolated_settings(tmp_path, database_url=url), clock=clock)
            stack.push_async_callback(core.stop, 0)
            cores.append(core)
        yield cores[0], cores[1]


async def test_a_rotation_takes_effect_on_every_replica(
    replicas: tuple[Core, Core], transport: str, clock: FakeClock
) -> None:
    first, second = replicas
    async with shim_client(first, transport) as a, shim_client(second, transport) as b:
        account = await make_account(a)
        other = await make_account(a, "two@example.com")
        assert await works(b, account.key) and await works(b, other.key)  # cached on the second replica
        short = await rotate(a, account, grace_seconds=0)
        assert not await works(b, account.key)
        assert await works(b, str(short["key"]))
        graced = await rotate(a, other, grace_seconds=120)
        assert await works(b, other.key) and await works(b, str(graced["key"]))
        clock.advance(121)
        assert not await works(b, other.key) and not await works(a, other.key)
        assert await works(b, str(graced["key"]))
    assert datetime.now(UTC) < clock.now()  # the grace passed on the clock, not by waiting
