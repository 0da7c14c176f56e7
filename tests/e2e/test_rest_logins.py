"""Who may get in: failed logins throttled per client (through the shim's X-Forwarded-For only
from trusted proxies), and registration closed by the operator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from aihub.v1 import auth_service_pb2 as auth_pb
from aihub.v1 import auth_service_pb2_grpc as auth_grpc
from aihub_core.app import Core
from tests.conftest import isolated_settings, shim_client
from tests.e2e.test_grpc import error_info

LOGIN = "/v1/auth/login"
OWNER = {"email": "owner@example.com", "password": "correct horse"}
WRONG = {"email": "owner@example.com", "password": "wrong horse"}


@asynccontextmanager
async def gateway(tmp_path: Path, transport: str, **settings: object) -> AsyncIterator[httpx.AsyncClient]:
    """A core with these settings and the shim in front of it, over real HTTP."""
    core = await Core.start(isolated_settings(tmp_path, **settings))
    try:
        async with shim_client(core, transport) as client:
            yield client
    finally:
        await core.stop(grace=0)


async def test_five_wrong_passwords_close_the_account_to_that_client_for_a_while(
    http: httpx.AsyncClient,
) -> None:
    assert (await http.post("/v1/auth/register", json=OWNER)).status_code == 201
    for _ in range(5):
        assert (await http.post(LOGIN, json=WRONG)).status_code == 401
    refused = await http.post(LOGIN, json=OWNER)  # the right password too: no more guessing
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert (error["type"], error["code"], error["details"]) == (
        "rate_limit_error",
        "too_many_failed_logins",
        {"scope": "account_address"},
    )
    assert 0 < int(refused.headers["retry-after"]) <= 900
    # A client naming another address is not believed: no proxy of ours put it there.
    spoofed = await http.post(LOGIN, json=OWNER, headers={"X-Forwarded-For": "198.51.100.23"})
    assert spoofed.status_code == 429


async def test_behind_a_trusted_proxy_each_forwarded_client_counts_alone(
    tmp_path: Path, transport: str
) -> None:
    async with gateway(tmp_path, transport, trusted_proxies=("127.0.0.0/8",)) as http:
        assert (await http.post("/v1/auth/register", json=OWNER)).status_code == 201
        guesser = {"X-Forwarded-For": "203.0.113.66"}
        for _ in range(5):
            assert (await http.post(LOGIN, json=WRONG, headers=guesser)).status_code == 401
        assert (await http.post(LOGIN, json=OWNER, headers=guesser)).status_code == 429
        owner = {"X-Forwarded-For": "198.51.100.7"}
        assert (await http.post(LOGIN, json=OWNER, headers=owner)).status_code == 200


async def test_closed_registration_is_a_403_and_login_still_works(tmp_path: Path, transport: str) -> None:
    async with gateway(tmp_path, transport, registration_open=False) as http:
        refused = await http.post("/v1/auth/register", json=OWNER)
        assert refused.status_code == 403
        error = refused.json()["error"]
        assert (error["type"], error["code"]) == ("permission_error", "registration_closed")
        assert "operator" in error["message"] and error["details"]["suggestion"]
        assert (await http.post(LOGIN, json=OWNER)).status_code == 401  # nobody was created


async def test_over_grpc_the_peer_is_throttled_with_retry_info(grpc_channel: grpc.aio.Channel) -> None:
    stub = auth_grpc.AuthServiceStub(grpc_channel)
    await stub.Register(auth_pb.RegisterRequest(**OWNER))
    for _ in range(5):
        with pytest.raises(grpc.aio.AioRpcError):
            await stub.Login(auth_pb.LoginRequest(**WRONG))
    # A gRPC client is its peer: what it forwards is not believed.
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.Login(auth_pb.LoginRequest(**OWNER), metadata=(("x-forwarded-for", "198.51.100.9"),))
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error_info(refused.value).reason == "TOO_MANY_FAILED_LOGINS"
    status = rpc_status.from_call(refused.value)
    assert status is not None
    retry = error_details_pb2.RetryInfo()
    assert any(detail.Unpack(retry) for detail in status.details)
    assert 0 < retry.retry_delay.seconds <= 900
