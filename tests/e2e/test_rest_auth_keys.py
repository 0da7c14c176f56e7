"""Register, login and API keys over REST, including one user against another's keys."""

from __future__ import annotations

import re

import httpx

from aihub_core.auth import credentials
from tests.conftest import make_account

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


async def test_register_login_and_the_spec_error_shapes(http: httpx.AsyncClient) -> None:
    body = {"email": "Ada@Example.com", "password": "correct horse"}
    registered = await http.post("/v1/auth/register", json=body)
    assert registered.status_code == 201
    data = registered.json()
    assert set(data) == {"user_id", "email", "token", "expires_at", "role"} and data["role"] == "user"
    assert data["email"] == "ada@example.com" and ISO.match(data["expires_at"])

    again = await http.post("/v1/auth/register", json={**body, "email": "ada@example.com"})
    assert again.status_code == 409
    assert again.json()["error"]["type"] == "invalid_request_error"
    assert again.json()["request_id"] == again.headers["x-request-id"]

    login = await http.post("/v1/auth/login", json=body)
    assert login.status_code == 200 and login.json()["user_id"] == data["user_id"]

    wrong = await http.post("/v1/auth/login", json={**body, "password": "wrong password"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["type"] == "authentication_error"

    bad = await http.post("/v1/auth/register", json={"email": "not-an-email", "password": "correct horse"})
    assert bad.status_code == 400
    assert bad.json()["error"]["details"]["parameter"] == "email"

    short = await http.post("/v1/auth/register", json={"email": "b@example.com", "password": "short"})
    assert short.status_code == 400 and short.json()["error"]["details"]["parameter"] == "password"


async def test_key_secret_is_shown_once_and_listed_without_it(http: httpx.AsyncClient) -> None:
    account = await make_account(http)
    created = await http.post(
        "/v1/developer/api-keys",
        json={
            "name": "My App Key",
            "permissions": ["chat", "models"],
            "rate_limit": {"requests_per_minute": 5},
        },
        headers=account.jwt_auth,
    )
    assert created.status_code == 201
    key = created.json()
    assert key["key"].startswith("ai-hub-") and len(key["key"]) >= len("ai-hub-") + 22
    assert key["last_used"] is None and ISO.match(key["created_at"])
    assert key["permissions"] == ["chat", "models"]
    assert key["rate_limit"] == {"requests_per_minute": 5}

    listed = await http.get("/v1/developer/api-keys", headers=account.jwt_auth)
    assert listed.status_code == 200
    keys = listed.json()["api_keys"]
    assert listed.json()["total_count"] == 2 == len(keys)
    assert keys[0]["id"] == key["id"]  # newest first
    assert all("key" not in k for k in keys)
    assert key["key"].startswith(keys[0]["prefix"])
    assert key["key"] not in listed.text


async def test_deleting_a_key_stops_it_at_once(http: httpx.AsyncClient) -> None:
    account = await make_account(http)
    assert (await http.get("/v1/developer/models", headers=account.key_auth)).status_code == 200
    deleted = await http.delete(f"/v1/developer/api-keys/{account.key_id}", headers=account.jwt_auth)
    assert deleted.status_code == 200 and deleted.json() == {"id": account.key_id, "deleted": True}
    refused = await http.get("/v1/developer/models", headers=account.key_auth)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_api_key"
    again = await http.delete(f"/v1/developer/api-keys/{account.key_id}", headers=account.jwt_auth)
    assert again.status_code == 404


async def test_one_user_never_sees_or_touches_anothers_keys(http: httpx.AsyncClient) -> None:
    alice = await make_account(http, "alice@example.com")
    bob = await make_account(http, "bob@example.com")
    listed = (await http.get("/v1/developer/api-keys", headers=bob.jwt_auth)).json()
    assert [k["id"] for k in listed["api_keys"]] == [bob.key_id]
    stolen = await http.delete(f"/v1/developer/api-keys/{alice.key_id}", headers=bob.jwt_auth)
    assert stolen.status_code == 404
    assert (await http.get("/v1/developer/models", headers=alice.key_auth)).status_code == 200


async def test_key_management_takes_the_jwt_and_developer_calls_take_a_key(http: httpx.AsyncClient) -> None:
    account = await make_account(http)
    with_key = await http.get("/v1/developer/api-keys", headers=account.key_auth)
    assert with_key.status_code == 401
    # Chat takes a key only (the account's reports take either: test_rest_reports.py).
    with_jwt = await http.post("/v1/developer/chat", json={"message": "hi"}, headers=account.jwt_auth)
    assert with_jwt.status_code == 401
    assert with_jwt.json()["error"]["details"]["parameter"] == "Authorization"
    missing = await http.get("/v1/developer/quota")
    assert missing.status_code == 401 and missing.json()["error"]["type"] == "authentication_error"
    bogus = await http.get("/v1/developer/quota", headers={"Authorization": "Bearer ai-hub-nope"})
    assert bogus.status_code == 401
    forged = await http.get("/v1/developer/api-keys", headers={"Authorization": "Bearer a.b.c"})
    assert forged.status_code == 401


async def test_bad_key_requests_name_the_field(http: httpx.AsyncClient) -> None:
    account = await make_account(http)
    cases = [
        ({"name": ""}, "name"),
        ({"name": "k", "permissions": ["admin"]}, "permissions"),
        ({"name": "k", "rate_limit": {"requests_per_minute": 10_000}}, "rate_limit.requests_per_minute"),
        ({"name": 5}, "name"),
        ({"name": "k", "colour": "blue"}, "colour"),
    ]
    for body, param in cases:
        answer = await http.post("/v1/developer/api-keys", json=body, headers=account.jwt_auth)
        assert answer.status_code == 400, body
        assert answer.json()["error"]["details"]["parameter"] == param, answer.json()


async def test_wrong_credentials_say_what_was_wrong_and_what_to_send(http: httpx.AsyncClient) -> None:
    account = await make_account(http)

    async def error_of(path: str, credential: str) -> dict[str, object]:
        answer = await http.get(path, headers={"Authorization": f"Bearer {credential}"})
        assert answer.status_code == 401
        error: dict[str, object] = answer.json()["error"]
        return error

    placeholder = await error_of("/v1/developer/quota", "ai-hub-xxx-xxx-xxx")
    assert placeholder["code"] == "invalid_api_key"
    assert "placeholder" in str(placeholder["message"]) and "login token" not in str(placeholder["message"])
    provider = await error_of("/v1/developer/quota", "sk-123")
    assert "Not an AI Hub API key" in str(provider["message"])
    key_for_token = await error_of("/v1/developer/api-keys", account.key)
    assert key_for_token["code"] == "invalid_token"
    assert "not an API key" in str(key_for_token["message"])
    assert key_for_token["details"] == {"parameter": "Authorization", "suggestion": credentials.LOG_IN}
    no_token = await http.get("/v1/developer/api-keys")
    assert "login token" in no_token.json()["error"]["message"]

    limited = await http.post(
        "/v1/developer/api-keys", json={"name": "m", "permissions": ["models"]}, headers=account.jwt_auth
    )
    limited_auth = {"Authorization": f"Bearer {limited.json()['key']}"}
    denied = await http.get("/v1/developer/quota", headers=limited_auth)
    assert denied.status_code == 403
    assert "lacks the 'usage' permission (it has: models)" in denied.json()["error"]["message"]
