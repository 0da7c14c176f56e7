"""The auth cache through the real servers: repeat requests do not read the key or the user, a
deleted key and a plan set by `aihub users set-plan` (another process) count from the next request."""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from aihub_core.app import Core
from tests.conftest import Account, make_account

DEV = "/v1/developer"


def spy(monkeypatch: pytest.MonkeyPatch, core: Core, *names: str) -> Counter[str]:
    """Count calls of the running core's store methods; they still run as before."""
    calls: Counter[str] = Counter()
    for name in names:
        real: Callable[..., Awaitable[Any]] = getattr(core.store, name)

        async def counted(*args: Any, _name: str = name, _real: Any = real) -> Any:
            calls[_name] += 1
            return await _real(*args)

        monkeypatch.setattr(core.store, name, counted)
    return calls


async def test_a_key_already_seen_is_not_read_again(
    core: Core, http: httpx.AsyncClient, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    await http.get(f"{DEV}/quota", headers=account.key_auth)
    calls = spy(monkeypatch, core, "get_api_key_by_hash", "get_user", "auth_generation")
    for _ in range(5):
        assert (await http.get(f"{DEV}/quota", headers=account.key_auth)).status_code == 200
    chat = await http.post(f"{DEV}/chat", json={"message": "hi"}, headers=account.key_auth)
    assert chat.status_code == 200
    assert calls == Counter(auth_generation=6)


async def test_a_deleted_key_is_refused_on_the_next_request(
    http: httpx.AsyncClient, account: Account
) -> None:
    for _ in range(3):
        assert (await http.get(f"{DEV}/quota", headers=account.key_auth)).status_code == 200
    deleted = await http.delete(f"{DEV}/api-keys/{account.key_id}", headers=account.jwt_auth)
    assert deleted.status_code == 200
    refused = await http.get(f"{DEV}/quota", headers=account.key_auth)
    assert refused.status_code == 401 and refused.json()["error"]["type"] == "authentication_error"


async def test_a_key_deleted_while_its_calls_run_is_refused_after(
    http: httpx.AsyncClient, account: Account
) -> None:
    async def use() -> int:
        return (await http.get(f"{DEV}/quota", headers=account.key_auth)).status_code

    async def delete() -> int:
        return (await http.delete(f"{DEV}/api-keys/{account.key_id}", headers=account.jwt_auth)).status_code

    results = await asyncio.gather(*(use() for _ in range(10)), delete(), *(use() for _ in range(10)))
    assert results[10] == 200 and set(results) <= {200, 401}
    assert await use() == 401


async def test_set_plan_from_the_cli_applies_to_the_next_request(core: Core, http: httpx.AsyncClient) -> None:
    account = await make_account(http, "plans@example.com")
    before = await http.get(f"{DEV}/quota", headers=account.key_auth)
    chat = await http.post(f"{DEV}/chat", json={"message": "hi"}, headers=account.key_auth)
    assert before.json()["plan"] == "free" and chat.headers["x-ratelimit-limit"] == "20"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIHUB_")}
    cli = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aihub_cli",
        "users",
        "set-plan",
        "--db",
        core.settings.database_url,
        account.email,
        "professional",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(cli.communicate(), 60)
    assert cli.returncode == 0, stderr.decode()
    after = await http.get(f"{DEV}/quota", headers=account.key_auth)
    quota = after.json()
    assert quota["plan"] == "professional" and quota["quota_limit"] == 10_000
    assert quota["rate_limit"] == {
        "requests_per_minute": 60,
        "tokens_per_minute": 15_000,
        "concurrent_requests": 10,
    }
    chat = await http.post(f"{DEV}/chat", json={"message": "hi"}, headers=account.key_auth)
    assert chat.headers["x-ratelimit-limit"] == "60"
