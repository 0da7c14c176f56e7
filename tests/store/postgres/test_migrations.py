"""PostgreSQL migrations: applied once under an advisory lock while many replicas open at the same
moment (the others wait and go on), a newer schema refused, a missing schema named."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from aihub_core.store import open_store
from aihub_core.store.base import SchemaTooNewError, StoreOptions
from aihub_core.store.postgres.migrations import MIGRATIONS, latest_version
from tests.postgres import PostgresSchema, schema_url

pytestmark = pytest.mark.postgres
REPLICAS = 8


async def test_replicas_opening_together_on_a_fresh_schema_migrate_it_once(schema: PostgresSchema) -> None:
    stores = [open_store(schema.url, StoreOptions(keep_lease=False, pool_size=2)) for _ in range(REPLICAS)]
    try:
        await asyncio.gather(*(store.open() for store in stores))  # every one opens: none fails
        applied = await schema.fetch("SELECT version FROM aihub_migrations ORDER BY version")
        assert [row["version"] for row in applied] == [m.version for m in MIGRATIONS]
        # And every one works on the schema at once.
        assert set(await asyncio.gather(*(store.auth_generation() for store in stores))) == {0}
        leases = await schema.fetch("SELECT owner FROM leases")
        assert sorted(row["owner"] for row in leases) == sorted(store.owner for store in stores)
    finally:
        await asyncio.gather(*(store.close() for store in stores))


async def test_a_newer_schema_is_refused(schema: PostgresSchema) -> None:
    async with contextlib.AsyncExitStack() as stack:
        store = open_store(schema.url, StoreOptions(keep_lease=False))
        await store.open()
        stack.push_async_callback(store.close)
    await schema.fetch(
        "INSERT INTO aihub_migrations (version, description) VALUES ($1, 'from the future')",
        latest_version() + 1,
    )
    store = open_store(schema.url)
    with pytest.raises(SchemaTooNewError, match="upgrade AI Hub"):
        await store.open()
    with pytest.raises(RuntimeError, match="not open"):
        await store.get_user("usr_1")


async def test_a_search_path_naming_no_schema_is_explained() -> None:
    store = open_store(schema_url("aihub_test_no_such_schema"))
    with pytest.raises(RuntimeError, match="no schema to create AI Hub's tables in"):
        await store.open()
