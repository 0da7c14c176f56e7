"""Every test here needs the test PostgreSQL (tests/postgres.py, the `postgres` mark): each gets a
schema of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.postgres import PostgresSchema, postgres_schema


@pytest.fixture
async def schema() -> AsyncIterator[PostgresSchema]:
    async with postgres_schema() as made:
        yield made
