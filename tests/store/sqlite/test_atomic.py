"""`atomic(db)`: a savepoint of one fixed name inside a transaction, nested blocks undone alone."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from aihub_core.store.sqlite._atomic import atomic


def _db(tmp_path: Path) -> tuple[Database, list[str]]:
    conn = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    db = Database(conn, execute_plugins=False)
    db.execute("CREATE TABLE t (n INTEGER)")
    return db, statements


def _rows(db: Database) -> list[int]:
    return [row[0] for row in db.execute("SELECT n FROM t ORDER BY n").fetchall()]


def test_inside_a_transaction_each_block_is_the_same_savepoint_text(tmp_path: Path) -> None:
    db, statements = _db(tmp_path)
    db.execute("BEGIN IMMEDIATE")
    for n in (1, 2):
        with atomic(db):
            db.execute("INSERT INTO t VALUES (?)", [n])
    db.execute("COMMIT")
    savepoints = [s for s in statements if "SAVEPOINT" in s]
    assert savepoints == ["SAVEPOINT aihub_write", "RELEASE SAVEPOINT aihub_write"] * 2
    assert _rows(db) == [1, 2]


def test_a_failed_inner_block_is_undone_alone(tmp_path: Path) -> None:
    db, _ = _db(tmp_path)
    db.execute("BEGIN IMMEDIATE")
    with atomic(db):
        db.execute("INSERT INTO t VALUES (1)")
        with contextlib.suppress(ValueError), atomic(db):
            db.execute("INSERT INTO t VALUES (2)")
            raise ValueError("inner")
        db.execute("INSERT INTO t VALUES (3)")
    with contextlib.suppress(ValueError), atomic(db):
        db.execute("INSERT INTO t VALUES (4)")
        raise ValueError("outer")
    assert db.conn.in_transaction
    db.execute("COMMIT")
    assert _rows(db) == [1, 3]


def test_outside_a_transaction_it_commits_or_rolls_back(tmp_path: Path) -> None:
    db, _ = _db(tmp_path)
    with atomic(db):
        db.execute("INSERT INTO t VALUES (1)")
    assert not db.conn.in_transaction
    with pytest.raises(ValueError), atomic(db):
        db.execute("INSERT INTO t VALUES (2)")
        raise ValueError("undo")
    assert not db.conn.in_transaction
    assert _rows(db) == [1]
