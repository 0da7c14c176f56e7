"""Persistence behind one small interface (`base.Store`), with a backend per URL scheme.

SQLite (`sqlite/`) is the embedded default; PostgreSQL (`postgres/`) is the store many hosts
share. A backend is done when the conformance suite (`tests/store/conformance/`) passes against it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from aihub_core.errors import InvalidRequestError
from aihub_core.store.base import Store
from aihub_core.store.options import Durability, StoreOptions

__all__ = ["Durability", "Store", "StoreOptions", "open_store", "redacted_url", "unsupported_scheme"]

Opener = Callable[[str, StoreOptions], Store]


def open_store(database_url: str, options: StoreOptions | None = None) -> Store:
    """The store a database URL names, not yet opened: `await store.open()` connects, migrates and
    takes the store's lease (`StoreOptions`: its name, durability, lease length, pool)."""
    url = database_url.strip()
    scheme = _scheme(url)
    opener = _OPENERS.get(scheme)
    if opener is None:
        raise unsupported_scheme(url)
    return opener(url, options or StoreOptions())


def unsupported_scheme(url: str) -> InvalidRequestError:
    """The error for a database URL whose scheme no backend serves."""
    scheme = url.split(":", 1)[0]
    return InvalidRequestError(
        f"unsupported database URL scheme {scheme!r}: use sqlite:///PATH or postgresql://HOST/DATABASE",
        code="unsupported_database",
        param="database_url",
    )


def redacted_url(database_url: str) -> str:
    """The URL with its password (in the authority or a `password=` parameter) replaced by `***`,
    fit for a log line or an error message."""
    url = database_url.strip()
    scheme, sep, rest = url.partition("://")
    if not sep or scheme == "sqlite":
        return url
    head, question, query = rest.partition("?")
    # The last @ ends the user information, whatever a careless password holds (/, @, :).
    userinfo, at, hosts = head.rpartition("@")
    if at and ":" in userinfo:
        head = f"{userinfo.partition(':')[0]}:***@{hosts}"
    if question:
        query = "&".join(_redact_parameter(item) for item in query.split("&"))
    return f"{scheme}{sep}{head}{question}{query}"


def _redact_parameter(item: str) -> str:
    name, equals, _ = item.partition("=")
    return f"{name}=***" if equals and name.lower() in ("password", "sslpassword") else item


def _open_sqlite(url: str, options: StoreOptions) -> Store:
    # Imported here so that importing the interface (`store.base`) never loads sqlite-utils.
    from aihub_core.store.sqlite.store import SQLiteStore
    from aihub_core.store.sqlite.url import sqlite_path

    return SQLiteStore(sqlite_path(url), options)


def _open_postgresql(url: str, options: StoreOptions) -> Store:
    # Imported here so that a SQLite deployment never loads asyncpg.
    from aihub_core.store.postgres.store import PostgresStore
    from aihub_core.store.postgres.url import parse_url

    return PostgresStore(parse_url(url), options)


# By URL scheme; "" is a bare path, a SQLite file.
_OPENERS: Mapping[str, Opener] = MappingProxyType(
    {"": _open_sqlite, "sqlite": _open_sqlite, "postgresql": _open_postgresql, "postgres": _open_postgresql}
)


def _scheme(url: str) -> str:
    """The scheme of a database URL: a backend's name before a colon, any name before `://`, or
    "" for a bare path (which may hold a colon, as `:memory:` does)."""
    head, colon, _ = url.partition(":")
    return head if colon and (head in _OPENERS or "://" in url) else ""
