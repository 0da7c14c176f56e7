"""Group commit for the usage ledger: writes queued from the event loop share one transaction.

Callers on the event loop `put` a write and get a future; the store's worker thread later calls
`commit_batch`, which takes up to `max_batch` queued writes, applies each in its own savepoint
(one bad write fails alone), commits once, and only then resolves the futures. So a caller
resumes after its write is committed, never before.

There is no timer: a batch forms from the writes that queued while the worker was busy (with
the previous commit, or a read). A lone write therefore waits for nothing, and under load the
batches grow by themselves, which is when sharing a commit (and its fsync) pays.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from sqlite_utils import Database

Write = Callable[[Database], None]


@dataclass(frozen=True)
class _Queued:
    write: Write
    done: Future[None]


class GroupCommit:
    """A queue of ledger writes and the batch committer the worker thread runs.

    `synchronous` is the PRAGMA synchronous level of a batch's commit, and `restore` the level set
    again afterwards for every other write (None: leave the connection's level alone).
    """

    def __init__(self, max_batch: int = 64, synchronous: str | None = None, restore: str = "NORMAL") -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._max_batch = max_batch
        self._synchronous = synchronous
        self._restore = restore
        # deque append and popleft are atomic: the loop thread appends, the worker pops.
        self._queue: deque[_Queued] = deque()

    def put(self, write: Write) -> Future[None]:
        """Queue a write; the future resolves once it is committed (or fails alone)."""
        queued = _Queued(write, Future())
        self._queue.append(queued)
        return queued.done

    def commit_batch(self, db: Database | None) -> int:
        """Apply and commit up to max_batch queued writes in one transaction; how many were taken.
        Worker thread only."""
        batch = self._take()
        if not batch:
            return 0
        if db is None:
            _fail(batch, RuntimeError("the store is not open"))
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
            _fail(batch, exc)
            return len(batch)
        finally:
            if self._synchronous is not None:
                db.execute(f"PRAGMA synchronous = {self._restore}")
        for queued, error in zip(batch, outcomes, strict=True):
            if error is None:
                queued.done.set_result(None)
            else:
                queued.done.set_exception(error)
        return len(batch)

    def _take(self) -> list[_Queued]:
        batch: list[_Queued] = []
        while len(batch) < self._max_batch:
            try:
                batch.append(self._queue.popleft())
            except IndexError:
                break
        return batch


def _apply(db: Database, write: Write) -> Exception | None:
    """Run one write in a savepoint of the batch's transaction; its error, if it failed."""
    try:
        with db.atomic():  # inside a transaction, atomic() is a savepoint
            write(db)
    except Exception as exc:
        return exc
    return None


def _fail(batch: list[_Queued], error: BaseException) -> None:
    for queued in batch:
        if not queued.done.done():
            queued.done.set_exception(error)
