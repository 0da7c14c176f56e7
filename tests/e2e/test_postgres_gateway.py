"""The whole gateway on PostgreSQL: register, key, chats (unary and streamed), a key deletion, and
reports that equal the ledger and the answers exactly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from aihub_cli.http_server import start_http
from aihub_core.app import Core
from aihub_http.app import create_app
from tests.conftest import isolated_settings, make_account
from tests.e2e.sse import sse_events
from tests.postgres import PostgresSchema, postgres_schema

pytestmark = pytest.mark.postgres
DEV = "/v1/developer"


@pytest.fixture
async def schema() -> AsyncIterator[PostgresSchema]:
    async with postgres_schema() as made:
        yield made


@pytest.fixture
async def gateway(schema: PostgresSchema, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    core = await Core.start(isolated_settings(tmp_path, database_url=schema.url))
    server = await start_http(create_app(core.local_channel()), "127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", timeout=30) as client:
            yield client
    finally:
        await server.stop()
        await core.stop(grace=0)


async def test_the_gateway_runs_on_postgresql(gateway: httpx.AsyncClient, schema: PostgresSchema) -> None:
    account = await make_account(gateway)
    costs = []
    for service in ("openrouter", "gemini"):
        answer = await gateway.post(
            f"{DEV}/chat", json={"message": "hi", "service": service}, headers=account.key_auth
        )
        assert answer.status_code == 200, answer.text
        costs.append(answer.json()["usage"]["estimated_cost_usd"])
    async with gateway.stream(
        "POST", f"{DEV}/chat/stream", json={"message": "a story"}, headers=account.key_auth
    ) as streamed:
        events = await sse_events(streamed)
    assert events[-1]["type"] == "done"
    costs.append(next(e for e in events if e["type"] == "usage")["usage"]["estimated_cost_usd"])

    report = (await gateway.get(f"{DEV}/usage", headers=account.key_auth)).json()
    assert report["total_requests"] == 3 and report["quota_used"] == 3
    assert report["total_cost_usd"] == float(sum(Decimal(repr(c)) for c in costs))
    rows = await schema.fetch("SELECT status, cost_pico_usd, settled_at FROM usage_records")
    assert sorted(Decimal(r["cost_pico_usd"]) / 10**12 for r in rows) == sorted(
        Decimal(repr(c)) for c in costs
    )
    assert all(r["status"] == "ok" and r["settled_at"] is not None for r in rows)

    deleted = await gateway.delete(f"{DEV}/api-keys/{account.key_id}", headers=account.jwt_auth)
    assert deleted.status_code == 200, deleted.text
    refused = await gateway.get(f"{DEV}/quota", headers=account.key_auth)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_api_key"
