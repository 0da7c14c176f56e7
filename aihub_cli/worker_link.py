"""What a worker process of `aihub serve --workers N` gets from its supervisor, and its side of
the conversation: say when it is ready, notice when the supervisor is gone."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass

from aihub_core.errors import ConfigError

READY = b"ready\n"


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
