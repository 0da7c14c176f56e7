"""Several `aihub serve` processes (replicas) on one PostgreSQL and one Redis, each on ports of
its own, as separate hosts would run them; their stderr goes to files in the test's folder."""

from __future__ import annotations

import contextlib
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.test_cli import aihub, free_port, wait_for_banner


@dataclass
class Replica:
    """One running replica."""

    process: subprocess.Popen[str]
    http_port: int

    @property
    def base(self) -> str:
        """Its REST base URL."""
        return f"http://127.0.0.1:{self.http_port}"


@contextlib.contextmanager
def replicas(tmp_path: Path, env: dict[str, str], count: int) -> Iterator[list[Replica]]:
    """`count` replicas started together (so their migrations race), stopped with SIGTERM after
    the block; each must exit 0, except those the test killed."""
    started: list[Replica] = []
    with contextlib.ExitStack() as stack:
        for n in range(count):
            http_port = free_port()
            log = stack.enter_context((tmp_path / f"replica-{n}.log").open("w"))
            command = aihub("serve", "--http-port", str(http_port), "--grpc-port", str(free_port()))
            process = subprocess.Popen(
                command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=log, text=True
            )
            started.append(Replica(process, http_port))
        try:
            for replica in started:
                wait_for_banner(replica.process)
            yield started
        finally:
            for replica in started:
                if replica.process.poll() is None:
                    replica.process.send_signal(signal.SIGTERM)
            codes = [replica.process.wait(timeout=60) for replica in started]
            for replica in started:
                if replica.process.stdout is not None:
                    replica.process.stdout.close()
    assert all(code in (0, -signal.SIGKILL) for code in codes), codes
