"""Group commit for the SQLite ledger (`batching`), committed on the store's worker thread.

Callers on the event loop `put` a write; the worker later calls `commit_batch`, which takes the
queued writes, applies each in its own savepoint (one bad write fails alone), commits once with
`BEGIN IMMEDIATE ... COMMIT` at the batch's `synchronous` level, and only then resolves the
futures.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future

from aihub_core.store.batching import WriteQueue, fail, resolve
from aihub_core.store.sqlite._atomic import atomic
from aihub_core.store.sqlite._sqlite_utils import Database

Write = Callable[[Database], None]


class GroupCommit:
    """A queue of ledger writes and the batch committer the worker thread runs.

    `synchronous` is the PRAGMA synchronous level of a batch's commit, and `restore` the level set
    again afterwards for every other write (None: leave the connection's level alone).
    """

    def __init__(self, max_batch: int = 64, synchronous: str | None = None, restore: str = "NORMAL") -> None:
        self._queue: WriteQueue[Write] = WriteQueue(max_batch)
        self._synchronous = synchronous
        self._restore = restore

    def put(self, write: Write) -> Future[None]:
        """Queue a write; the future resolves once it is committed (or fails alone)."""
        return self._queue.put(write)

    def commit_batch(self, db: Database | None) -> int:
        """Apply and commit up to max_batch queued writes in one transaction; how many were taken.
        Worker thread only."""
        batch = self._queue.take()
        if not batch:
            return 0
        if db is None:
            fail(batch, RuntimeError("the store is not open"))
            return len(batch)
        outcomes: list[BaseException | None] = []
        try:
            if self._synchronous is not None:
                db.execute(f"PRAGMA synchronous = {self._synchronous}")
            db.execute("BEGIN IMMEDIATE")
            if len(batch) == 1:
                # Alone in its transaction, a write needs no savepoint: if it fails, the
                # rollback below undoes exactly it.
                batch[0].write(db)
                outcomes = [None]
            else:
                outcomes = [_apply(db, queued.write) for queued in batch]
            db.execute("COMMIT")
        except BaseException as exc:
            # The transaction itself failed (busy, disk full): nothing of the batch is written.
            db.rollback()
            fail(batch, exc)
            return len(batch)
        finally:
            if self._synchronous is not None:
                db.execute(f"PRAGMA synchronous = {self._restore}")
        resolve(batch, outcomes)
        return len(batch)


def _apply(db: Database, write: Write) -> Exception | None:
    """Run one write in a savepoint of the batch's transaction; its error, if it failed."""
    try:
        with atomic(db):  # inside a transaction, atomic() is a savepoint
            write(db)
    except Exception as exc:
        return exc
    return None
