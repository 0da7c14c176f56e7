"""What tests of several gateway processes on one PostgreSQL and one Redis share: a schema and a
Redis key prefix of their own per run (so runs never collide), and reads of the ledger as another
client. Synchronous, for tests that drive `aihub serve` processes with blocking clients."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import redis

from tests.postgres import PostgresSchema, connect, schema_url
from tests.test_cli import clean_env

REDIS_URL = os.environ.get("AIHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DEV = "/v1/developer"

# Plans that make every limit kind bite after a few calls, and one without limits.
PLANS = """
[plans.rpm]
requests_per_minute = 5
tokens_per_minute = 0
concurrent_requests = 0
monthly_requests = 0

[plans.tpm]
requests_per_minute = 0
tokens_per_minute = 400
concurrent_requests = 0
monthly_requests = 0

[plans.concurrent]
requests_per_minute = 0
tokens_per_minute = 0
concurrent_requests = 3
monthly_requests = 0

[plans.monthly]
requests_per_minute = 0
tokens_per_minute = 0
concurrent_requests = 0
monthly_requests = 4

[plans.open]
requests_per_minute = 0
tokens_per_minute = 0
concurrent_requests = 0
monthly_requests = 0
"""


async def _execute(sql: str) -> None:
    conn = await connect()
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@dataclass(frozen=True)
class Shared:
    """What one run's gateways share: a schema of the test PostgreSQL and a Redis key prefix."""

    schema: PostgresSchema
    redis_prefix: str


@contextlib.contextmanager
def shared_state() -> Iterator[Shared]:
    """A fresh schema and Redis prefix for the block; the schema dropped and the prefix's keys
    deleted afterwards."""
    name = f"aihub_test_{secrets.token_hex(6)}"
    prefix = f"aihub-test-{secrets.token_hex(4)}:"
    asyncio.run(_execute(f"CREATE SCHEMA {name}"))
    try:
        yield Shared(PostgresSchema(name, schema_url(name)), prefix)
    finally:
        asyncio.run(_execute(f"DROP SCHEMA {name} CASCADE"))
        with redis.Redis.from_url(REDIS_URL) as client:
            keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
            if keys:
                client.delete(*keys)


def fetch(schema: PostgresSchema, sql: str, *args: Any) -> list[dict[str, Any]]:
    """The rows of a query in the schema, as dicts."""
    return [dict(row) for row in asyncio.run(schema.fetch(sql, *args))]


def ledger(schema: PostgresSchema) -> dict[str, dict[str, Any]]:
    """Every usage row by request id."""
    return {row["request_id"]: row for row in fetch(schema, "SELECT * FROM usage_records")}


def gateway_env(tmp_path: Path, shared: Shared, **extra: str) -> dict[str, str]:
    """The environment of a gateway process on the run's schema and Redis prefix, with the plans
    above."""
    config = tmp_path / "aihub.toml"
    config.write_text(PLANS)
    return {
        **clean_env(),
        "AIHUB_DATABASE_URL": shared.schema.url,
        "AIHUB_REDIS_URL": REDIS_URL,
        "AIHUB_REDIS_PREFIX": shared.redis_prefix,
        "AIHUB_CONFIG": str(config),
        "AIHUB_JWT_SECRET": "replicas-test-secret-0123456789abcdef0123456789",
        **extra,
    }


def api_key(base: str, email: str) -> tuple[dict[str, str], dict[str, str]]:
    """Register `email` and make it a key: the key's and the account's (JWT) headers."""
    with httpx.Client(base_url=base, timeout=30) as client:
        registered = client.post("/v1/auth/register", json={"email": email, "password": "pass-word"})
        assert registered.status_code == 201, registered.text
        jwt = {"Authorization": f"Bearer {registered.json()['token']}"}
        made = client.post(f"{DEV}/api-keys", json={"name": "k"}, headers=jwt)
        assert made.status_code == 201, made.text
        return {"Authorization": f"Bearer {made.json()['key']}"}, jwt
