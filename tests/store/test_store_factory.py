"""`open_store`: which URLs name which store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from aihub_core.errors import InvalidRequestError
from aihub_core.store import open_store
from aihub_core.store.base import UserRecord
from aihub_core.store.sqlite.store import SQLiteStore
from aihub_core.store.sqlite.url import sqlite_path


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///./aihub.db", Path("aihub.db")),
        ("sqlite:///data/aihub.db", Path("data/aihub.db")),
        ("sqlite:////var/lib/aihub/aihub.db", Path("/var/lib/aihub/aihub.db")),
        ("/srv/aihub.db", Path("/srv/aihub.db")),
        ("aihub.db", Path("aihub.db")),
        ("sqlite:///:memory:", ":memory:"),
    ],
)
def test_sqlite_urls_and_bare_paths(url: str, expected: Path | str) -> None:
    assert sqlite_path(url) == expected
    store = open_store(url)
    assert isinstance(store, SQLiteStore)
    assert store.path == str(expected)


@pytest.mark.parametrize("url", ["postgresql://u:p@db/aihub", "postgres://db/aihub"])
def test_postgresql_is_announced_for_later(url: str) -> None:
    with pytest.raises(InvalidRequestError, match="PostgreSQL storage lands in a later issue") as caught:
        open_store(url)
    assert caught.value.details["parameter"] == "database_url"


@pytest.mark.parametrize("url", ["mysql://db/aihub", "sqlite://relative.db", "sqlite:///", ""])
def test_other_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidRequestError):
        open_store(url)


async def test_memory_store_works() -> None:
    store = open_store("sqlite:///:memory:")
    await store.open()
    try:
        await store.create_user(UserRecord("usr_1", "m@example.com", "h", "free", datetime.now(UTC)))
        assert (await store.get_user("usr_1")) is not None
    finally:
        await store.close()


async def test_file_store_creates_its_directory(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "aihub.db"
    store = open_store(f"sqlite:///{path}")
    await store.open()
    await store.close()
    assert path.is_file()
