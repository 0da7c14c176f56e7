"""Calls held in flight through `aihub serve` for as long as a test needs: an upstream of the
test's own (the OpenRouter simulator, in a thread of its own), reached as an operator's service
with two models. `local:llama3.1@stall` answers stall after their first piece until their client
hangs up; `local:llama3.1@held` ones wait before their first byte until the test releases them.

A stream whose first piece has arrived (or a call the upstream has received and holds) is in
flight, and stays so until the test ends it, however slow the machine: no answer ends before a
kill, or before the calls of a burst have all been admitted or refused."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from aihub_core.simulators import OpenRouterSimulator

UPSTREAM_KEY = "sk-local-0123456789"
STALLING, HELD = "local:llama3.1@stall", "local:llama3.1@held"
# The environment a gateway on this upstream needs: its key, and waits on it longer than any
# test lasts (AIHUB_UPSTREAM_IDLE_TIMEOUT is 60 s by default, the first byte's 120 s).
UPSTREAM_ENV = {
    "LOCAL_API_KEY": UPSTREAM_KEY,
    "AIHUB_UPSTREAM_IDLE_TIMEOUT": "600",
    "AIHUB_UPSTREAM_FIRST_BYTE_TIMEOUT": "600",
}
# An operator's service (AIHUB_CONFIG) on that upstream; the simulator reads the scenario from
# the model's suffix.
LOCAL_SERVICE = """
[[services]]
name = "local"
kind = "openai-compatible"
base_url = "{base_url}"
api_key_env = "LOCAL_API_KEY"
default_model = "llama3.1@stall"

[[services.models]]
id = "llama3.1@stall"
context_length = 8192
prompt_price = 0
completion_price = 0

[[services.models]]
id = "llama3.1@held"
context_length = 8192
prompt_price = 0
completion_price = 0
"""


class Upstream:
    """The running upstream, driven from the test's thread."""

    def __init__(self, sim: OpenRouterSimulator, loop: asyncio.AbstractEventLoop) -> None:
        self._sim, self._loop = sim, loop

    def held(self) -> int:
        """How many `@held` calls it has received (each is held until `release`)."""
        requests = list(self._sim.requests)
        return sum(
            1 for r in requests if isinstance(r.json, dict) and str(r.json.get("model")).endswith("@held")
        )

    def release(self) -> None:
        """Let the `@held` calls answer, and those that come later too."""
        self._loop.call_soon_threadsafe(self._sim.release)


@contextlib.contextmanager
def stalling_upstream(config: Path) -> Iterator[Upstream]:
    """The upstream for the block, added to the operator's config file `config`."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="test-upstream", daemon=True)
    thread.start()
    sim = OpenRouterSimulator(
        chunk_delay_ms=0, models=["llama3.1"], api_key=UPSTREAM_KEY, record_limit=10_000
    )
    try:
        base_url = asyncio.run_coroutine_threadsafe(sim.start(), loop).result(timeout=30)
        try:
            config.write_text(config.read_text() + LOCAL_SERVICE.format(base_url=base_url))
            yield Upstream(sim, loop)
        finally:
            asyncio.run_coroutine_threadsafe(sim.stop(), loop).result(timeout=30)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()


@contextlib.contextmanager
def stalled_stream(base: str, auth: dict[str, str]) -> Iterator[int]:
    """A chat stream to the stalling upstream, open for the block, its first piece received: the
    client's port (to find the worker serving it)."""
    body = {"message": "tell me", "model": STALLING}
    with (
        httpx.Client(base_url=base, timeout=60) as client,
        client.stream("POST", "/v1/developer/chat/stream", json=body, headers=auth) as answer,
    ):
        assert answer.status_code == 200, answer.read()
        port = int(answer.extensions["network_stream"].get_extra_info("client_addr")[1])
        # The reader stays referenced for the block: a reader dropped mid-stream is finalized at
        # once, and that closes the connection (the gateway would settle the call as cancelled).
        lines = answer.iter_lines()
        first = next(line for line in lines if line.startswith("data:"))
        assert '"type":"content"' in first.replace(" ", ""), first
        yield port
        del lines  # (referenced until here; the response closes it)


def serving_pid(pids: list[int], http_port: int, client_port: int) -> int:
    """Which worker holds the server end of the client's connection (from /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                local, remote = int(fields[1].split(":")[1], 16), int(fields[2].split(":")[1], 16)
                if (local, remote) == (http_port, client_port):
                    inodes.add(f"socket:[{fields[9]}]")
    for pid in pids:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    return pid
    raise AssertionError(f"no worker holds the connection from port {client_port}")


Statuses = Callable[[], list[tuple[str, bool]]]


def _becomes(statuses: Statuses, expected: list[tuple[str, bool]]) -> None:
    """Wait until the ledger's (status, recovered), sorted, are `expected`; a failure after 30 s."""
    deadline = time.monotonic() + 30
    while (now := statuses()) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert now == expected, now


def kill_a_worker_mid_calls(
    base: str, auth: dict[str, str], pids: list[int], http_port: int, statuses: Statuses
) -> None:
    """Streams in flight until one is on each worker, then SIGKILL the first one's worker: its
    calls are settled as recovered errors while the other's is still running, and the other
    worker runs on (it settles its own call, cancelled, when the test hangs up). `statuses`: the
    (status, recovered) of the test's calls' ledger rows, sorted."""
    with contextlib.ExitStack() as streams:
        victim, on_victim = serving_pid(pids, http_port, streams.enter_context(stalled_stream(base, auth))), 1
        for _ in range(20):  # a stream on the other worker
            survivor = streams.enter_context(contextlib.ExitStack())
            if serving_pid(pids, http_port, survivor.enter_context(stalled_stream(base, auth))) != victim:
                break
            on_victim += 1  # stays open: one more call of the victim's
        else:
            raise AssertionError("every connection went to one worker")
        # Each reserved (its pending row committed): a reservation is queued, and one still in a
        # killed worker's queue dies with it.
        _becomes(statuses, [("pending", False)] * (on_victim + 1))
        os.kill(victim, signal.SIGKILL)
        _becomes(statuses, [("error", True)] * on_victim + [("pending", False)])
        survivor.close()
        _becomes(statuses, [("cancelled", False)] + [("error", True)] * on_victim)
