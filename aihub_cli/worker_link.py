"""What a worker process of `aihub serve --workers N` gets from its supervisor, and its side of
the conversation: say when it is ready, notice when the supervisor is gone."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass

from aihub_core.errors import ConfigError

READY = b"ready\n"


# Connections a worker's HTTP socket queues before it accepts them.
BACKLOG = 2048


def reuse_port_socket(host: str, port: int, *, listen: bool) -> socket.socket:
    """A TCP socket on host:port (0 picks a port) with SO_REUSEPORT. Listening, it is one of the
    workers' sockets the kernel spreads new connections over; not listening, the supervisor's hold
    on the port: free for SO_REUSEPORT sockets of this user, taken for everyone else."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        if listen:
            sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


@dataclass(frozen=True)
class WorkerLink:
    """Inherited file descriptors: a pipe to report readiness on, and a pipe that reaches end of
    file when the supervisor exits (however it exits, SIGKILL included).

    Each worker listens on the HTTP port with a socket of its own (SO_REUSEPORT), not on one socket
    they all accept from: the kernel then spreads connections evenly, where a shared socket let
    one worker's accept loop take a whole burst (measured: 15 of 16 connections on one worker)."""

    ready_fd: int
    lifeline_fd: int

    def encode(self) -> str:
        """The hidden `--worker-link` value."""
        return f"{self.ready_fd},{self.lifeline_fd}"

    @classmethod
    def parse(cls, text: str) -> WorkerLink:
        """Read a `--worker-link` value."""
        try:
            ready, lifeline = (int(part) for part in text.split(","))
        except ValueError:
            raise ConfigError(f"--worker-link is set by `aihub serve --workers`, got {text!r}") from None
        return cls(ready, lifeline)

    def report_ready(self) -> None:
        """Tell the supervisor this worker is serving."""
        try:
            os.write(self.ready_fd, READY)
        finally:
            os.close(self.ready_fd)

    def on_supervisor_gone(self, callback: Callable[[], None]) -> None:
        """Call `callback` once if the supervisor exits: the lifeline pipe is never written, so
        it only becomes readable at end of file."""
        loop = asyncio.get_running_loop()

        def gone() -> None:
            with contextlib.suppress(ValueError, OSError):
                loop.remove_reader(self.lifeline_fd)
            callback()

        loop.add_reader(self.lifeline_fd, gone)
