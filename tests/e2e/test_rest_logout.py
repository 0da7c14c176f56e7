"""Log-out over REST: the login token it is sent with is refused from then on, by every core
sharing the database, while the account's other login tokens and its API keys go on."""

from __future__ import annotations

from pathlib import Path

import httpx

from aihub_core.app import Core
from tests.conftest import Account, isolated_settings, make_account, shim_client
from tests.fake_clock import FakeClock

KEYS = "/v1/developer/api-keys"


async def test_a_logged_out_token_is_refused_and_the_rest_go_on(
    http: httpx.AsyncClient, account: Account
) -> None:
    other = await http.post("/v1/auth/login", json={"email": account.email, "password": "correct horse"})
    other_auth = {"Authorization": f"Bearer {other.json()['token']}"}

    out = await http.post("/v1/auth/logout", headers=account.jwt_auth)
    assert out.status_code == 200, out.text
    assert out.json()["user_id"].startswith("user_") and out.json()["expires_at"]

    refused = await http.get(KEYS, headers=account.jwt_auth)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "token_revoked"
    assert refused.json()["error"]["type"] == "authentication_error"
    again = await http.post("/v1/auth/logout", headers=account.jwt_auth)
    assert again.status_code == 401 and again.json()["error"]["code"] == "token_revoked"

    assert (await http.get(KEYS, headers=other_auth)).status_code == 200
    chat = await http.post("/v1/developer/chat", json={"message": "hi"}, headers=account.key_auth)
    assert chat.status_code == 200, chat.text
    with_key = await http.post("/v1/auth/logout", headers=account.key_auth)
    assert with_key.status_code == 401 and with_key.json()["error"]["code"] == "invalid_token"
    nothing = await http.post("/v1/auth/logout")
    assert nothing.status_code == 401


async def test_every_core_sharing_the_database_refuses_it(tmp_path: Path, clock: FakeClock) -> None:
    settings = isolated_settings(tmp_path)
    first = await Core.start(settings, clock=clock)
    try:
        second = await Core.start(settings, clock=clock)
        try:
            async with shim_client(first, "grpc") as one, shim_client(second, "grpc") as two:
                account = await make_account(one, "shared@example.com")
                # The second core has seen (and cached) the token before the log-out.
                assert (await two.get(KEYS, headers=account.jwt_auth)).status_code == 200
                assert (await one.post("/v1/auth/logout", headers=account.jwt_auth)).status_code == 200
                refused = await two.get(KEYS, headers=account.jwt_auth)
                assert refused.status_code == 401 and refused.json()["error"]["code"] == "token_revoked"
        finally:
            await second.stop(grace=0)
    finally:
        await first.stop(grace=0)
