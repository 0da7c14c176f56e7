"""Persistence behind one small interface (`base.Store`), with a backend per URL scheme.

SQLite (`sqlite/`) is the embedded default. A backend is done when the conformance suite
(`tests/store/conformance/`) passes against it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from aihub_core.errors import InvalidRequestError
from aihub_core.store.base import Durability, Store

__all__ = ["Durability", "Store", "open_store", "unsupported_scheme"]

Opener = Callable[[str, str | None, Durability], Store]


def open_store(
    database_url: str, *, owner: str | None = None, durability: Durability = Durability.DURABLE
) -> Store:
    """The store a database URL names, not yet opened: `await store.open()` connects and migrates.

    `owner` tags what the store leaves pending (reservations, idempotency claims): one of several
    worker processes names itself, so its pending work alone can be settled if it dies.
    `durability`: how far a settlement has gone when it returns (AIHUB_LEDGER_SYNC)."""
    url = database_url.strip()
    scheme = _scheme(url)
    opener = _OPENERS.get(scheme)
    if opener is None:
        raise unsupported_scheme(url)
    return opener(url, owner, durability)


def unsupported_scheme(url: str) -> InvalidRequestError:
    """The error for a database URL whose scheme no backend serves."""
    scheme = url.split(":", 1)[0]
    return InvalidRequestError(
        f"unsupported database URL scheme {scheme!r}: use sqlite:///PATH",
        code="unsupported_database",
        param="database_url",
    )


def _open_sqlite(url: str, owner: str | None, durability: Durability) -> Store:
    # Imported here so that importing the interface (`store.base`) never loads sqlite-utils.
    from aihub_core.store.sqlite.store import SQLiteStore
    from aihub_core.store.sqlite.url import sqlite_path

    return SQLiteStore(sqlite_path(url), owner=owner, durability=durability)


def _open_postgresql(url: str, owner: str | None, durability: Durability) -> Store:
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
