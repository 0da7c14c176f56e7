"""The operators' routes over REST: an admin's login token lists every account with this month's
figures and moves one to another plan; anyone else is refused with 403 `admin_only`."""

from __future__ import annotations

import httpx

from aihub_core.app import Core
from tests.conftest import make_account


async def test_an_admin_lists_the_accounts_and_changes_a_plan(http: httpx.AsyncClient, core: Core) -> None:
    ops = await make_account(http, "ops@example.com")
    dev = await make_account(http, "dev@example.com")
    for n in range(2):
        chat = await http.post("/v1/developer/chat", json={"message": f"hi {n}"}, headers=dev.key_auth)
        assert chat.status_code == 200, chat.text

    # Not an admin yet: refused, with the spec's error shape.
    refused = await http.get("/v1/admin/users", headers=ops.jwt_auth)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "admin_only"
    assert refused.json()["error"]["type"] == "permission_error"

    # Made one (as `aihub users set-role` does): the same login token is enough from then on.
    assert await core.store.set_role("ops@example.com", "admin")
    login = await http.post("/v1/auth/login", json={"email": "ops@example.com", "password": "correct horse"})
    assert login.json()["role"] == "admin"
    listed = await http.get("/v1/admin/users", headers=ops.jwt_auth)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["total_count"] == 2 and body["next_page_token"] == ""
    users = {u["email"]: u for u in body["users"]}
    assert [u["email"] for u in body["users"]] == ["ops@example.com", "dev@example.com"]  # oldest first
    assert (users["ops@example.com"]["role"], users["dev@example.com"]["role"]) == ("admin", "user")
    assert users["dev@example.com"]["plan"] == "free"
    assert users["dev@example.com"]["month_requests"] == 2
    usage = (await http.get("/v1/developer/usage", headers=dev.key_auth)).json()
    assert users["dev@example.com"]["month_cost_usd"] == usage["total_cost_usd"] > 0
    assert users["ops@example.com"]["month_requests"] == 0
    assert "password_hash" not in users["dev@example.com"]
    paged = await http.get("/v1/admin/users", params={"page_size": 1}, headers=ops.jwt_auth)
    assert [u["email"] for u in paged.json()["users"]] == ["ops@example.com"]
    assert paged.json()["next_page_token"]

    # Move the developer to another plan: their limits change at once.
    dev_id = users["dev@example.com"]["id"]
    moved = await http.post(
        f"/v1/admin/users/{dev_id}/plan", json={"plan": "professional"}, headers=ops.jwt_auth
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["user"]["plan"] == "professional" and moved.json()["user"]["month_requests"] == 2
    quota = await http.get("/v1/developer/quota", headers=dev.key_auth)
    assert quota.json()["plan"] == "professional"

    unknown_plan = await http.post(
        f"/v1/admin/users/{dev_id}/plan", json={"plan": "gold"}, headers=ops.jwt_auth
    )
    assert unknown_plan.status_code == 400
    nobody = await http.post("/v1/admin/users/user_none/plan", json={"plan": "free"}, headers=ops.jwt_auth)
    assert nobody.status_code == 404 and nobody.json()["error"]["details"]["parameter"] == "user_id"

    # A developer may not change plans, not even their own; an API key is no login token.
    own = await http.post(f"/v1/admin/users/{dev_id}/plan", json={"plan": "enterprise"}, headers=dev.jwt_auth)
    assert own.status_code == 403 and own.json()["error"]["code"] == "admin_only"
    with_key = await http.get("/v1/admin/users", headers=ops.key_auth)
    assert with_key.status_code == 401

    # A role taken away stops the next call.
    assert await core.store.set_role("ops@example.com", "user")
    assert (await http.get("/v1/admin/users", headers=ops.jwt_auth)).status_code == 403
