"""Group commit, the part every backend shares: a queue of writes that a committer takes in batches.

Callers `put` a write and get a future; the backend's committer `take`s up to `max_batch` queued
writes, applies them in one transaction (each failing alone, as the backend arranges), commits
once, and only then resolves each write's future with its own outcome. So a caller resumes after
its write is committed, never before, and one commit (one fsync, one round trip) serves them all.

There is no timer: a batch forms from the writes that queued while the committer was busy (with
the previous commit, or anything else), so a lone write waits for nothing and under load the
batches grow by themselves, which is when sharing a commit pays.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Generic, TypeVar

W = TypeVar("W")


@dataclass(frozen=True)
class Queued(Generic[W]):
    """One queued write and the future its caller waits on."""

    write: W
    done: Future[None]


class WriteQueue(Generic[W]):
    """Writes waiting for a shared commit. `put` and `take` may run on different threads."""

    def __init__(self, max_batch: int = 64) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._max_batch = max_batch
        # deque append and popleft are atomic: one thread may put while another takes.
        self._queue: deque[Queued[W]] = deque()

    def put(self, write: W) -> Future[None]:
        """Queue a write; the future resolves once it is committed (or fails alone)."""
        queued = Queued(write, Future[None]())
        self._queue.append(queued)
        return queued.done

    def take(self) -> list[Queued[W]]:
        """Up to max_batch queued writes, oldest first (none if the queue is empty)."""
        batch: list[Queued[W]] = []
        while len(batch) < self._max_batch:
            try:
                batch.append(self._queue.popleft())
            except IndexError:
                break
        return batch


def resolve(batch: Sequence[Queued[W]], outcomes: Sequence[BaseException | None]) -> None:
    """After the batch's commit: each write's own outcome (None: committed; else its error)."""
    for queued, error in zip(batch, outcomes, strict=True):
        if error is None:
            queued.done.set_result(None)
        else:
            queued.done.set_exception(error)


def fail(batch: Sequence[Queued[W]], error: BaseException) -> None:
    """The batch's transaction failed: nothing of it is written, every write gets the error."""
    for queued in batch:
        if not queued.done.done():
            queued.done.set_exception(error)
