"""What travels with each call: request metadata to the core, rate-limit headers back."""

from __future__ import annotations

import re

import httpx

from tests.http.fakes import RATE_LIMIT_METADATA, FakeCore, rate_limited, with_trailers

REQUEST_ID = re.compile(r"req_[0-9a-f]{24}")
RATE_LIMIT_HEADERS = {
    "x-ratelimit-limit": "60",
    "x-ratelimit-remaining": "59",
    "x-ratelimit-reset": "1640995200",
}


def rate_limit_headers(response: httpx.Response) -> dict[str, str]:
    return {name: response.headers[name] for name in RATE_LIMIT_HEADERS if name in response.headers}


async def test_authorization_and_idempotency_key_reach_the_core(
    api: httpx.AsyncClient, fake: FakeCore
) -> None:
    headers = {"Authorization": "Bearer ai-hub-abc", "Idempotency-Key": "idem-42"}
    response = await api.post("/v1/developer/chat", json={"message": "hi"}, headers=headers)
    assert response.status_code == 200
    seen = fake.last("Chat").metadata
    assert seen["authorization"] == "Bearer ai-hub-abc"
    assert seen["idempotency-key"] == "idem-42"


async def test_the_answer_carries_the_id_the_core_minted_and_only_it(
    api: httpx.AsyncClient, fake: FakeCore
) -> None:
    response = await api.post("/v1/developer/chat", json={"message": "hi"})
    call = fake.last("Chat")
    assert REQUEST_ID.fullmatch(call.request_id)
    assert response.headers.get_list("x-request-id") == [call.request_id]
    assert "x-request-id" not in call.metadata  # the shim mints none of its own to send


async def test_absent_headers_are_not_invented(api: httpx.AsyncClient, fake: FakeCore) -> None:
    await api.get("/v1/developer/quota")
    seen = fake.last("GetQuota").metadata
    assert "authorization" not in seen
    assert "idempotency-key" not in seen


async def test_the_shim_appends_the_address_it_got_the_request_from_to_x_forwarded_for(
    api: httpx.AsyncClient, fake: FakeCore
) -> None:
    # As any proxy does; which of the addresses to believe is the core's decision.
    await api.post("/v1/auth/login", json={"email": "a@b.dev", "password": "pw"})
    assert fake.last("Login").metadata["x-forwarded-for"] == "127.0.0.1"
    await api.post("/v1/auth/login", json={}, headers={"X-Forwarded-For": "192.0.2.9, 10.0.0.2"})
    assert fake.last("Login").metadata["x-forwarded-for"] == "192.0.2.9, 10.0.0.2, 127.0.0.1"
    await api.post("/v1/auth/login", json={}, headers={"X-Forwarded-For": "\x01bogus"})
    assert fake.last("Login").metadata["x-forwarded-for"] == "127.0.0.1"  # unreadable: the peer only


async def test_every_request_gets_its_own_id(api: httpx.AsyncClient, fake: FakeCore) -> None:
    ids = {(await api.get("/v1/developer/quota")).headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3
    assert ids == {call.request_id for call in fake.calls}


async def test_client_request_id_is_not_trusted(api: httpx.AsyncClient, fake: FakeCore) -> None:
    response = await api.get("/v1/developer/quota", headers={"X-Request-ID": "req_mine"})
    assert response.headers["x-request-id"] != "req_mine"
    assert response.headers["x-request-id"] == fake.last("GetQuota").request_id
    assert "x-request-id" not in fake.last("GetQuota").metadata  # nor passed on to the core


async def test_the_core_s_id_of_a_refusal_is_the_answer_s(api: httpx.AsyncClient, fake: FakeCore) -> None:
    fake.fail("GetQuota", rate_limited(0.2), send_initial=False)  # the id only in the trailers
    response = await api.get("/v1/developer/quota")
    assert response.status_code == 429
    assert response.headers.get_list("x-request-id") == [fake.last("GetQuota").request_id]
    assert response.json()["request_id"] == fake.last("GetQuota").request_id


async def test_an_answer_without_a_core_id_gets_one_minted_by_the_shim(
    api: httpx.AsyncClient, fake: FakeCore
) -> None:
    async def no_metadata(request: object, context: object) -> object:
        return fake.replies["GetQuota"]

    fake.handlers["GetQuota"] = no_metadata
    first, second = [await api.get("/v1/developer/quota") for _ in range(2)]
    assert first.status_code == second.status_code == 200
    ids = [*first.headers.get_list("x-request-id"), *second.headers.get_list("x-request-id")]
    assert len(ids) == len(set(ids)) == 2
    assert all(REQUEST_ID.fullmatch(request_id) for request_id in ids)


async def test_rate_limit_headers_are_copied_on_success(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/developer/models")
    assert rate_limit_headers(response) == RATE_LIMIT_HEADERS


async def test_no_rate_limit_headers_when_the_core_sends_none(api: httpx.AsyncClient, fake: FakeCore) -> None:
    fake.initial_metadata = ()
    response = await api.post("/v1/auth/login", json={})
    assert response.status_code == 200
    assert rate_limit_headers(response) == {}


async def test_429_carries_rate_limit_headers_retry_after_and_the_spec_body(
    api: httpx.AsyncClient, fake: FakeCore
) -> None:
    fake.fail("Chat", rate_limited(retry_after=1.2))
    response = await api.post("/v1/developer/chat", json={"message": "hi"})
    assert response.status_code == 429
    assert rate_limit_headers(response) == RATE_LIMIT_HEADERS
    assert response.headers["retry-after"] == "2"  # 1.2 s rounded up
    assert response.json() == {
        "error": {
            "type": "rate_limit_error",
            "code": "rate_limit_exceeded",
            "message": "Rate limit exceeded: 60 requests per minute",
            "details": {},
        },
        "request_id": response.headers["x-request-id"],
    }


async def test_rate_limit_headers_from_trailers_only(api: httpx.AsyncClient, fake: FakeCore) -> None:
    # A core that aborts before sending initial metadata puts the figures in the trailers.
    fake.fail("GetQuota", with_trailers(rate_limited(0.2), *RATE_LIMIT_METADATA), send_initial=False)
    response = await api.get("/v1/developer/quota")
    assert response.status_code == 429
    assert rate_limit_headers(response) == RATE_LIMIT_HEADERS
    assert response.headers["retry-after"] == "1"  # never below one second


async def test_authorization_that_cannot_be_metadata_is_a_401_without_calling_the_core(
    api: httpx.AsyncClient, fake: FakeCore
) -> None:
    response = await api.get(
        "/v1/developer/quota", headers={b"Authorization": "Bearer caf\xe9".encode("latin-1")}
    )
    assert response.status_code == 401
    error = response.json()["error"]
    assert (error["type"], error["code"], error["details"]) == (
        "authentication_error",
        "invalid_api_key",
        {"parameter": "Authorization"},
    )
    assert fake.calls == []


async def test_bad_idempotency_key_is_a_400(api: httpx.AsyncClient, fake: FakeCore) -> None:
    response = await api.get("/v1/developer/quota", headers={"Idempotency-Key": "a\tb"})
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"parameter": "Idempotency-Key"}
    assert fake.calls == []
