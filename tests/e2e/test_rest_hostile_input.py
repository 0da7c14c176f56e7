"""Input an attacker (or a careless client) sends: answered with the spec's 4xx, never a 500."""

from __future__ import annotations

import time

import httpx
import jwt

from tests.conftest import TEST_JWT_SECRET, Account

DEV = "/v1/developer"


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    error: dict[str, object] = response.json()["error"]
    assert error["code"] == code, error
    return error


async def test_a_usage_window_past_the_last_date_is_a_400(http: httpx.AsyncClient, account: Account) -> None:
    window = {"start_date": "9999-12-31", "end_date": "9999-12-31"}
    answer = await http.get(f"{DEV}/usage", params=window, headers=account.key_auth)
    assert assert_error(answer, 400, "invalid_date")["details"] == {"parameter": "start_date"}


async def test_a_jwt_expiring_past_what_a_date_holds_is_a_401(
    http: httpx.AsyncClient, account: Account
) -> None:
    claims = jwt.decode(account.token, options={"verify_signature": False})
    for exp in (10**20, 10**13):
        token = jwt.encode(claims | {"exp": exp, "iat": int(time.time())}, TEST_JWT_SECRET, algorithm="HS256")
        answer = await http.get(f"{DEV}/api-keys", headers={"Authorization": f"Bearer {token}"})
        assert_error(answer, 401, "invalid_token")


async def test_an_explicit_empty_permission_list_is_a_400_and_none_means_all(
    http: httpx.AsyncClient, account: Account
) -> None:
    refused = await http.post(
        f"{DEV}/api-keys", json={"name": "k", "permissions": []}, headers=account.jwt_auth
    )
    assert assert_error(refused, 400, "invalid_parameter")["details"] == {"parameter": "permissions"}
    for body in ({"name": "k"}, {"name": "k", "permissions": None}):
        granted = await http.post(f"{DEV}/api-keys", json=body, headers=account.jwt_auth)
        assert granted.status_code == 201, granted.text
        assert granted.json()["permissions"] == ["chat", "models", "usage"]
