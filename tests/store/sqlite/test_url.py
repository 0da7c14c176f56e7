"""SQLite URLs: `sqlite:///PATH`, bare paths and `:memory:`, each opening a `SQLiteStore`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

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
