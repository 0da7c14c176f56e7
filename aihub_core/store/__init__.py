"""Persistence behind one small interface (`base.Store`), with a backend per URL scheme.

SQLite (`sqlite/`) is the embedded default. A backend is done when the conformance suite
(`tests/store/conformance/`) passes against it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Literal

from aihub_core.errors import InvalidRequestError
from aihub_core.store.base import Store

__all__ = ["LedgerSync", "Store", "open_store", "unsupported_scheme"]

# SQLite's `synchronous` for a settled call's ledger commit: FULL fsyncs it (durable through a
# power cut), NORMAL leaves that to the OS (durable through a crash of the process).
LedgerSync = Literal["FULL", "NORMAL"]
Opener = Callable[[str, "str | None", LedgerSync], Store]


def open_store(database_url: str, *, owner: str | None = None, ledger_sync: LedgerSync = "FULL") -> Store:
    """The store a database URL names, not yet opened: `await store.open()` connects and migrates.

    `owner` tags what the store leaves pending (reservations, idempotency claims): one of several
    worker processes names itself, so its pending work alone can be settled if it dies.
    `ledger_sync`: see `LedgerSync` (AIHUB_LEDGER_SYNC)."""
    url = database_url.strip()
    scheme = _scheme(url)
    opener = _OPENERS.get(scheme)
    if opener is None:
        raise unsupported_scheme(url)
    return opener(url, owner, ledger_sync)


def unsupported_scheme(url: str) -> InvalidRequestError:
    """The error for a database URL whose scheme no backend serves."""
    scheme = url.split(":", 1)[0]
    return InvalidRequestError(
        f"unsupported database URL scheme {scheme!r}: use sqlite:///PATH",
        code="unsupported_database",
        param="database_url",
    )


def _open_sqlite(url: str, owner: str | None, ledger_sync: LedgerSync) -> Store:
    # Imported here so that importing the interface (`store.base`) never loads sqlite-utils.
    from aihub_core.store.sqlite.store import SQLiteStore
    from aihub_core.store.sqlite.url import sqlite_path

    return SQLiteStore(sqlite_path(url), owner=owner, ledger_synchronous=ledger_sync)


def _open_postgresql(url: str, owner: str | None, ledger_sync: LedgerSync) -> Store:
    raise InvalidRequestError(
        "PostgreSQL storage lands in a later issue; use sqlite:///PATH for now",
        code="unsupported_database",
        param="database_url",
    )


# By URL scheme; "" is a bare path, a SQLite file.
_OPENERS: Mapping[str, Opener] = MappingProxyType(
    {"": _open_sqlite, "sqlite": _open_sqlite, "postgresql": _open_postgresql, "postgres": _open_postgresql}
)


def _scheme(url: str) -> str:
    """The scheme of a database URL: a backend's name before a colon, any name before `://`, or
    "" for a bare path (which may hold a colon, as `:memory:` does)."""
    head, colon, _ = url.partition(":")
    return head if colon and (head in _OPENERS or "://" in url) else ""
