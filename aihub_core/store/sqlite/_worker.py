"""The SQLite store's worker: one thread that runs the store's jobs one at a time, in the order
they were submitted (the connection lives on it).

What `ThreadPoolExecutor(max_workers=1)` gave the store, without its per-job machinery (a
`concurrent.futures.Future` and its condition variable per job, a work item, the idle semaphore):
`submit` queues a job whose outcome nobody waits for (a group commit resolves its own futures),
`run` one whose result or exception is delivered to an asyncio future on the caller's loop. A job
runs even if its awaiting caller was cancelled meanwhile. As the executor's threads are, the thread
is finished at interpreter exit: the jobs queued by then run first.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import threading
import weakref
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any, TypeVar

log = logging.getLogger("aihub.store")
T = TypeVar("T")
_RUNNING: weakref.WeakSet[Worker] = weakref.WeakSet()


class Worker:
    """One thread running submitted jobs in order until `shutdown`."""

    def __init__(self, name: str) -> None:
        self._jobs: SimpleQueue[Callable[[], object] | None] = SimpleQueue()
        self._thread = threading.Thread(target=_work, args=(self._jobs,), name=name, daemon=True)
        self._thread.start()
        _RUNNING.add(self)

    def submit(self, job: Callable[[], object]) -> None:
        """Queue `job`; an exception it raises is logged (nobody waits for it)."""
        self._jobs.put(job)

    def run(self, fn: Callable[[], T]) -> asyncio.Future[T]:
        """Queue `fn`; a future (of the running loop) with its result or exception."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()

        def job() -> None:
            try:
                result = fn()
            except BaseException as exc:  # delivered to the caller, as an executor's future does
                _deliver(loop, _set_exception, future, exc)
            else:
                _deliver(loop, _set_result, future, result)

        self._jobs.put(job)
        return future

    def shutdown(self, wait: bool = True) -> None:
        """End the thread once the jobs queued so far have run (`wait`: join it)."""
        _RUNNING.discard(self)
        self._jobs.put(None)
        if wait:
            self._thread.join()


def _work(jobs: SimpleQueue[Callable[[], object] | None]) -> None:
    while (job := jobs.get()) is not None:
        try:
            job()
        except BaseException:  # the next jobs still run
            log.exception("a store job failed")
        del job  # not kept alive while the thread waits for the next one


def _deliver(loop: asyncio.AbstractEventLoop, setter: Callable[..., None], *args: Any) -> None:
    with contextlib.suppress(RuntimeError):  # a closed loop: nobody is left to wait for it
        loop.call_soon_threadsafe(setter, *args)


def _set_result(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _set_exception(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


@atexit.register
def _finish_at_exit() -> None:
    for worker in list(_RUNNING):
        worker.shutdown(wait=True)
