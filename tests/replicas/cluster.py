"""Several `aihub serve` processes (replicas) on one PostgreSQL and one Redis, each on ports of
its own (ports 0, read from their banners), as separate hosts would run them; their stderr goes
to files in the test's folder.

A replica started `elsewhere` runs in a PID namespace of its own (`unshare --pid`): to the
others it is on another machine, so when it dies they cannot see its process gone and must wait
for its lease to expire, as replicas on other hosts do."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.test_cli import PORTS_0, Served, aihub, http_port_of, wait_for_banner

ANOTHER_MACHINE = ["unshare", "--pid", "--fork", "--kill-child"]


@dataclass
class Replica:
    """One running replica."""

    process: Served
    http_port: int = 0  # from its banner
    elsewhere: bool = False
    killed: bool = False

    @property
    def base(self) -> str:
        """Its REST base URL."""
        return f"http://127.0.0.1:{self.http_port}"

    def gateway_pid(self) -> int:
        """The `aihub serve` process (under `unshare`, its child)."""
        if not self.elsewhere:
            return self.process.pid
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return int(children.read_text().split()[0])

    def terminate(self) -> None:
        """SIGTERM the gateway, to stop gracefully. Not `unshare`'s: while it waits for its child
        it ignores SIGTERM, and the gateway would never hear it."""
        with contextlib.suppress(IndexError, OSError):  # gone already
            os.kill(self.gateway_pid(), signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL the gateway, as a crash or a lost host ends it."""
        pid = self.gateway_pid()
        os.kill(pid, signal.SIGKILL)
        self.killed = True
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.02)


@contextlib.contextmanager
def replicas(
    tmp_path: Path, env: dict[str, str], count: int, elsewhere: Collection[int] = ()
) -> Iterator[list[Replica]]:
    """`count` replicas started together (so their migrations race), those numbered in
    `elsewhere` on "another machine"; stopped with SIGTERM after the block, each exiting 0 but
    those the test killed."""
    started: list[Replica] = []
    with contextlib.ExitStack() as stack:
        try:
            for n in range(count):
                command = aihub("serve", *PORTS_0)
                if n in elsewhere:
                    command = [*ANOTHER_MACHINE, *command]
                process = stack.enter_context(Served(command, tmp_path, env))
                started.append(Replica(process, elsewhere=n in elsewhere))
            for replica in started:
                replica.http_port = http_port_of(wait_for_banner(replica.process))
            yield started
        finally:
            for replica in started:
                if replica.process.poll() is None:
                    replica.terminate()
            codes = []
            for replica in started:
                try:
                    codes.append(replica.process.wait(timeout=60))
                except subprocess.TimeoutExpired:  # -9 below; and no endless wait on leaving
                    replica.process.kill()  # (`unshare --kill-child` takes its gateway along)
                    codes.append(replica.process.wait(timeout=30))
    assert [code for code, r in zip(codes, started, strict=True) if not r.killed] == [0] * (
        count - sum(r.killed for r in started)
    ), (codes, [r.process.stderr_text() for r in started])
