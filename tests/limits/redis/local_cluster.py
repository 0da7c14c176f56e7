"""A Redis Cluster of three primaries that the tests start themselves: Debian's `redis-server` in
cluster mode on free loopback ports, its files in a directory of the test run's own, joined with
`redis-cli --cluster create`; stopped (and its files left with pytest's temporary directory) at
the end."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import redis

NODES = 3


def program(name: str) -> str:
    """The path of a Redis program, or a failure saying what the tests need."""
    found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
    if found is None:
        raise RuntimeError(f"the Redis Cluster tests need `{name}` (Debian: apt-get install redis-server)")
    return found


def free_ports(count: int) -> list[int]:
    """`count` distinct ports that were free a moment ago (held together, so all differ)."""
    with ExitStack() as stack:
        probes = [stack.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]


class LocalCluster:
    """Three cluster-mode `redis-server` processes under `directory`; `start`, then `stop`."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._processes: list[subprocess.Popen[bytes]] = []
        self.ports: list[int] = []

    @property
    def url(self) -> str:
        """The URL of the first node (the client finds the others)."""
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def start(self, timeout: float = 60) -> None:
        """Start the nodes, join them into one cluster, and wait until it serves every slot."""
        server, cli = program("redis-server"), program("redis-cli")
        ports = free_ports(2 * NODES)
        self.ports, bus_ports = ports[:NODES], ports[NODES:]
        for port, bus in zip(self.ports, bus_ports, strict=True):
            node_dir = self._directory / str(port)
            node_dir.mkdir(parents=True)
            command = [
                server,
                *("--port", str(port), "--bind", "127.0.0.1", "--dir", str(node_dir)),
                *("--cluster-enabled", "yes", "--cluster-port", str(bus)),
                *("--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"),
                *("--save", "", "--appendonly", "no", "--logfile", "redis.log"),
            ]
            self._processes.append(subprocess.Popen(command, stdin=subprocess.DEVNULL))
        deadline = time.monotonic() + timeout
        for port in self.ports:
            self._wait(port, deadline, lambda client: bool(client.ping()))
        addresses = [f"127.0.0.1:{port}" for port in self.ports]
        subprocess.run(
            [cli, "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=timeout,
        )
        for port in self.ports:
            self._wait(port, deadline, _serves_every_slot)

    def stop(self) -> None:
        """Stop every node."""
        for process in self._processes:
            process.terminate()
        for process in self._processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._processes = []

    def _wait(self, port: int, deadline: float, ready: Callable[[redis.Redis], bool]) -> None:
        with redis.Redis(port=port, socket_timeout=2) as client:
            while True:
                try:
                    if ready(client):
                        return
                except (redis.RedisError, OSError):
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"test cluster node on port {port} not ready: see its redis.log")
                time.sleep(0.05)


def _serves_every_slot(client: redis.Redis) -> bool:
    figures = client.cluster("INFO")  # (redis-py makes it a dict of strings)
    return bool(figures["cluster_state"] == "ok" and figures["cluster_slots_ok"] == "16384")
