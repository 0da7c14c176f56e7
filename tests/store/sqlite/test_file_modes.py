"""The database file and the WAL files beside it: readable by their owner only."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from aihub_core.store.sqlite.store import SQLiteStore
from tests.store.conftest import UserFactory


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The common umask, under which files are created world-readable unless asked otherwise."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_new_database_and_its_wal_files_are_created_0600(
    db_path: Path, make_user: UserFactory
) -> None:
    async with SQLiteStore(db_path) as store:
        await store.create_user(make_user("usr_1", "a@example.com"))  # a write: -wal and -shm exist
        files = [db_path, db_path.with_name("aihub.db-wal"), db_path.with_name("aihub.db-shm")]
        assert {path.name: mode(path) for path in files} == {path.name: 0o600 for path in files}


def create_empty(path: Path, file_mode: int) -> None:
    """An empty file, which SQLite opens as an empty database."""
    path.parent.mkdir(parents=True)
    path.touch(mode=file_mode)


async def test_an_existing_database_keeps_the_mode_its_owner_gave_it(db_path: Path) -> None:
    create_empty(db_path, 0o640)
    async with SQLiteStore(db_path):
        pass
    assert mode(db_path) == 0o640
