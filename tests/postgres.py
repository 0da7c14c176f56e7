"""The test PostgreSQL: each test gets a schema of its own in it, dropped afterwards, so that runs
in parallel (and CI beside a developer) never collide.

AIHUB_TEST_POSTGRES_URL names the server and database (default: this machine's, trust auth,
database `test`, as on every developer machine and in CI). A test that needs PostgreSQL and cannot
reach it fails, saying so: it never skips on its own, so CI can never pass without running it.
On a machine without PostgreSQL, deselect those tests by hand with `-m "not postgres"`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import asyncpg

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def server_url() -> str:
    """The test server's URL (AIHUB_TEST_POSTGRES_URL)."""
    return os.environ.get("AIHUB_TEST_POSTGRES_URL", "").strip() or DEFAULT_URL


@dataclass(frozen=True)
class PostgresSchema:
    """One test's schema: its name, the URL a store opens it with, and reads as another client."""

    name: str
    url: str

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """Rows of a query run in the schema on a connection of its own."""
        conn = await connect()
        try:
            await conn.execute(f"SET search_path TO {self.name}")
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()


async def connect() -> asyncpg.Connection:
    """A connection of its own to the test server; a clear error if it is unreachable."""
    url = server_url()
    try:
        return await asyncpg.connect(url, timeout=10)
    except (OSError, asyncpg.PostgresError) as err:
        raise RuntimeError(
            f"the test PostgreSQL at {url} is unreachable ({err}): start it, point "
            'AIHUB_TEST_POSTGRES_URL at one, or deselect these tests with -m "not postgres"'
        ) from err


def schema_url(schema: str) -> str:
    """The server URL with the schema first in the search_path (libpq's `options`)."""
    separator = "&" if "?" in server_url() else "?"
    return f"{server_url()}{separator}options={quote(f'-csearch_path={schema}')}"


@contextlib.asynccontextmanager
async def postgres_schema() -> AsyncIterator[PostgresSchema]:
    """A new, empty schema for the block, dropped with everything in it afterwards."""
    name = f"aihub_test_{secrets.token_hex(6)}"
    conn = await connect()
    try:
        await conn.execute(f"CREATE SCHEMA {name}")
        try:
            yield PostgresSchema(name, schema_url(name))
        finally:
            await conn.execute(f"DROP SCHEMA {name} CASCADE")
    finally:
        await conn.close()
