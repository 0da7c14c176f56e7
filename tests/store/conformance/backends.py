"""The backends the conformance suite runs against, and what it needs of each besides the Store.

Modelled on SQLAlchemy's dialect suite: one set of tests of the `base.Store` contract, run once
per backend. A backend gives each test a database of its own, makes stores on it (several may be
open at once, as the processes sharing one database are), and reads the ledger as another client
of the database would, which the contract's promises about rows are checked against. To add a
backend: a class with `store` and `ledger`, a context manager making it for one test (and
removing what it made), and an entry in BACKENDS.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

from aihub_core.store import open_store
from aihub_core.store.base import Store, StoreOptions, UsageRecord
from tests.postgres import PostgresSchema, postgres_schema


@dataclass(frozen=True)
class LedgerRow(UsageRecord):
    """One committed ledger row: the call's record (`created_at`: when it was reserved) and when it
    was settled, whether by recovery, and the owner that reserved it."""

    settled_at: datetime | None = None
    recovered: bool = False
    owner: str | None = None


class Backend(Protocol):
    """One test's database on one backend."""

    @property
    def url(self) -> str:
        """The database URL a user would configure for this test's database."""
        ...

    def store(self, options: StoreOptions | None = None) -> Store:
        """A new store on this test's database, not yet opened (as `open_store` makes it)."""
        ...

    async def ledger(self) -> list[LedgerRow]:
        """Every committed ledger row, by request id, read on a connection of its own."""
        ...


class SQLiteBackend:
    """A SQLite file in the test's temporary folder."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def url(self) -> str:
        """The file's URL."""
        return f"sqlite:///{self.path}"

    def store(self, options: StoreOptions | None = None) -> Store:
        """A store on the file, through the URL a user would configure."""
        return open_store(self.url, options)

    async def ledger(self) -> list[LedgerRow]:
        """The ledger as another connection sees it: only what was committed."""
        with contextlib.closing(sqlite3.connect(self.path)) as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute("SELECT * FROM usage_records ORDER BY request_id").fetchall()
        return [_sqlite_ledger_row(row) for row in rows]


def _sqlite_ledger_row(row: sqlite3.Row) -> LedgerRow:
    values = {field.name: row[field.name] for field in fields(LedgerRow)}
    settled_at = row["settled_at"]
    return LedgerRow(
        **{
            **values,
            "created_at": _sqlite_time(row["created_at"]),
            "settled_at": None if settled_at is None else _sqlite_time(settled_at),
            "recovered": bool(row["recovered"]),
        }
    )


def _sqlite_time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@contextlib.asynccontextmanager
async def sqlite_backend(tmp_path: Path) -> AsyncIterator[Backend]:
    """A SQLite database for one test (pytest removes the folder)."""
    yield SQLiteBackend(tmp_path / "data" / "aihub.db")


class PostgresBackend:
    """A schema of its own in the test PostgreSQL (`tests.postgres`)."""

    def __init__(self, schema: PostgresSchema) -> None:
        self.schema = schema

    @property
    def url(self) -> str:
        """The URL of the test's schema."""
        return self.schema.url

    def store(self, options: StoreOptions | None = None) -> Store:
        """A store on the schema, through the URL a user would configure."""
        return open_store(self.url, options)

    async def ledger(self) -> list[LedgerRow]:
        """The ledger as another connection sees it: only what was committed."""
        rows = await self.schema.fetch("SELECT * FROM usage_records ORDER BY request_id")
        return [LedgerRow(**{f.name: row[f.name] for f in fields(LedgerRow)}) for row in rows]


@contextlib.asynccontextmanager
async def postgres_backend(tmp_path: Path) -> AsyncIterator[Backend]:
    """A PostgreSQL schema for one test, dropped after it."""
    async with postgres_schema() as schema:
        yield PostgresBackend(schema)


BackendMaker = Callable[[Path], contextlib.AbstractAsyncContextManager[Backend]]
# Every backend the suite runs against, by the name its tests' ids carry.
BACKENDS: Mapping[str, BackendMaker] = MappingProxyType(
    {"sqlite": sqlite_backend, "postgres": postgres_backend}
)


@contextlib.asynccontextmanager
async def opened(store: Store) -> AsyncIterator[Store]:
    """The store, opened for the block and closed after it."""
    await store.open()
    try:
        yield store
    finally:
        await store.close()
