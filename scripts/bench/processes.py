"""Starting and stopping the benchmark's processes, and waiting for them to answer.

Every process is started in a session of its own, so that `Processes.stop_all` ends its whole process
group (uvicorn and nginx workers too), also on failure or Ctrl-C.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VENV_BIN = ROOT / ".venv" / "bin"


def _own_session() -> None:
    """In the child: a session of its own (so its whole group can be stopped), killed with us."""
    os.setsid()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Processes:
    """Every process the benchmark starts; `stop_all` ends them (their whole process groups)."""

    def __init__(self) -> None:
        self.running: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, argv: list[str], log: Path, env: dict[str, str] | None = None) -> int:
        out = log.open("wb")
        proc = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, env=env, preexec_fn=_own_session, cwd=ROOT
        )
        out.close()
        self.running.append((name, proc))
        return proc.pid

    def check(self, pid: int) -> bool:
        """True while `pid` runs; an error once it has exited (so waiting for it stops at once)."""
        for _, proc in self.running:
            if proc.pid == pid and proc.poll() is not None:
                raise RuntimeError(f"process {pid} exited with {proc.returncode}")
        return True

    def stop(self, pid: int) -> None:
        for entry in list(self.running):
            if entry[1].pid == pid:
                self._stop(entry[1])
                self.running.remove(entry)

    def stop_all(self) -> None:
        while self.running:
            self._stop(self.running.pop()[1])

    @staticmethod
    def _stop(proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)
        # Whatever is left of the group (uvicorn/nginx workers) goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)


PROCS = Processes()


def on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_json(method: str, url: str, body: Any = None, token: str = "", timeout: float = 30) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def wait_until(what: str, check: Callable[[], bool], timeout: float, proc_log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    problem = f"did not come up within {timeout:.0f} s"
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:  # not listening yet (urllib's errors are OSErrors too)
            pass
        except RuntimeError as exc:  # the process has exited
            problem = str(exc)
            break
        time.sleep(0.2)
    tail = proc_log.read_text(errors="replace")[-3000:] if proc_log and proc_log.exists() else ""
    raise RuntimeError(f"{what} {problem}\n{tail}")


def http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as response:
        return bool(response.status == 200)


def say(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", flush=True)


def enable_h2_prototype() -> int:
    """Bench-only (issue 16): the gateways started from now on also serve gRPC through grpclib
    (scripts/bench/h2_prototype) on the port returned."""
    port = free_port()
    folder = str(Path(__file__).resolve().parent / "h2_prototype")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (folder, os.environ.get("PYTHONPATH")) if p)
    os.environ["AIHUB_BENCH_H2_PORT"] = str(port)
    return port
