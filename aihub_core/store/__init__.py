"""Persistence behind one small interface (`base.Store`); SQLite is the embedded default."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from aihub_core.errors import InvalidRequestError
from aihub_core.store.base import Store

__all__ = ["MEMORY", "LedgerSync", "Store", "open_store", "sqlite_path"]

MEMORY = ":memory:"
# SQLite's `synchronous` for a settled call's ledger commit: FULL fsyncs it (durable through a
# power cut), NORMAL leaves that to the OS (durable through a crash of the process).
LedgerSync = Literal["FULL", "NORMAL"]


def sqlite_path(database_url: str) -> Path | str:
    """The file (or `:memory:`) of a `sqlite:///PATH` URL or a bare path."""
    url = database_url.strip()
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
    elif "://" in url or url.startswith("sqlite:"):
        raise _unsupported(url)
    else:
        path = url
    if not path:
        raise InvalidRequestError(
            "the database URL names no file: use sqlite:///PATH (sqlite:////abs/path for an absolute one)",
            param="database_url",
        )
    return MEMORY if path == MEMORY else Path(path).expanduser()


def open_store(database_url: str, *, owner: str | None = None, ledger_sync: LedgerSync = "FULL") -> Store:
    """The store a database URL names, not yet opened: `await store.open()` connects and migrates.

    `owner` tags what the store leaves pending (reservations, idempotency claims): one of several
    worker processes names itself, so its pending work alone can be settled if it dies.
    `ledger_sync`: see `LedgerSync` (AIHUB_LEDGER_SYNC)."""
    url = database_url.strip()
    if url.startswith(("postgresql:", "postgres:")):
        raise InvalidRequestError(
            "PostgreSQL storage lands in a later issue; use sqlite:///PATH for now",
            code="unsupported_database",
            param="database_url",
        )
    # Imported here so that importing the interface (`store.base`) never loads sqlite-utils.
    from aihub_core.store.sqlite import SQLiteStore

    return SQLiteStore(sqlite_path(url), owner=owner, ledger_synchronous=ledger_sync)


def _unsupported(url: str) -> InvalidRequestError:
    scheme = url.split(":", 1)[0]
    return InvalidRequestError(
        f"unsupported database URL scheme {scheme!r}: use sqlite:///PATH",
        code="unsupported_database",
        param="database_url",
    )
