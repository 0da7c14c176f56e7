"""`_worker.Worker`: the store's one thread runs jobs in order, each to its end; an awaited job's
outcome reaches its future, a failing job stops none after it."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

from aihub_core.store.sqlite._worker import Worker


async def test_jobs_run_in_order_on_one_thread_and_outcomes_reach_their_futures() -> None:
    worker = Worker("test-worker")
    seen: list[tuple[int, int]] = []
    try:
        for n in range(3):
            worker.submit(lambda n=n: seen.append((n, threading.get_ident())))  # type: ignore[misc]
        assert await worker.run(lambda: len(seen)) == 3

        def fails() -> None:
            raise KeyError("boom")

        with pytest.raises(KeyError, match="boom"):
            await worker.run(fails)
    finally:
        worker.shutdown()
    assert [n for n, _ in seen] == [0, 1, 2]
    assert len({thread for _, thread in seen}) == 1
    assert threading.get_ident() not in {thread for _, thread in seen}


async def test_a_failing_job_is_logged_and_the_next_ones_run(caplog: pytest.LogCaptureFixture) -> None:
    worker = Worker("test-worker")
    try:

        def fails() -> None:
            raise RuntimeError("lost job")

        with caplog.at_level(logging.ERROR, logger="aihub.store"):
            worker.submit(fails)
            assert await worker.run(lambda: "after") == "after"
    finally:
        worker.shutdown()
    assert any(record.exc_info and "lost job" in str(record.exc_info[1]) for record in caplog.records)


async def test_a_job_whose_caller_stopped_waiting_still_runs_and_shutdown_waits_for_queued_jobs() -> None:
    worker = Worker("test-worker")
    release = threading.Event()
    done: list[str] = []
    worker.submit(lambda: release.wait(10))
    waiting = asyncio.ensure_future(asyncio.shield(worker.run(lambda: done.append("awaited"))))
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    worker.submit(lambda: done.append("queued"))
    release.set()
    await asyncio.to_thread(worker.shutdown)
    assert done == ["awaited", "queued"]
