"""The group commit's queue: batches of at most max_batch, oldest first, each write its own outcome."""

from __future__ import annotations

import pytest

from aihub_core.store.batching import WriteQueue, fail, resolve


def test_batches_take_the_oldest_writes_up_to_the_limit() -> None:
    queue: WriteQueue[str] = WriteQueue(max_batch=3)
    futures = [queue.put(f"w{i}") for i in range(7)]
    batches = [[q.write for q in queue.take()] for _ in range(4)]
    assert batches == [["w0", "w1", "w2"], ["w3", "w4", "w5"], ["w6"], []]
    assert not any(f.done() for f in futures)  # nothing is resolved before its commit


def test_each_write_gets_its_own_outcome_or_the_batchs_failure() -> None:
    queue: WriteQueue[str] = WriteQueue()
    first = [queue.put(w) for w in ("ok", "bad", "ok too")]
    error = ValueError("bad write")
    resolve(queue.take(), [None, error, None])
    assert [f.exception() for f in first] == [None, error, None]
    assert first[0].result() is None

    second = [queue.put(w) for w in ("a", "b")]
    busy = RuntimeError("database is locked")
    fail(queue.take(), busy)
    assert [f.exception() for f in second] == [busy, busy]


def test_a_batch_holds_at_least_one_write() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        WriteQueue(max_batch=0)
