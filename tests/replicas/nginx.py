"""nginx for the multi-replica test: installed (Debian's package, quietly) where missing, run in
the foreground on a config of the test's own, with the `http` part taken from docs/deploy.md so
the documented config is the one tested."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

DEPLOY_DOC = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"
MARKER = "<!-- nginx: the multi-replica test"
_SERVER_LINE = re.compile(r"^(\s*server )\S+:\d+(.*)$")


def nginx_binary() -> str:
    """The nginx executable, installed with apt-get (as root, or with sudo) if it is missing."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    quiet = {"env": env, "check": True, "stdout": subprocess.DEVNULL, "timeout": 300}
    subprocess.run([*sudo, "apt-get", "update", "-qq"], **quiet)  # type: ignore[call-overload]
    subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "nginx"], **quiet)  # type: ignore[call-overload]
    found = shutil.which("nginx", path="/usr/sbin:/sbin:/usr/bin")
    assert found, "apt-get installed nginx, but no nginx executable was found"
    return found


def documented_config() -> str:
    """The nginx config of docs/deploy.md (the fenced block after the marker)."""
    text = DEPLOY_DOC.read_text(encoding="utf-8")
    after = text[text.index(MARKER) :]
    block = re.search(r"```nginx\n(.*?)```", after, re.DOTALL)
    assert block, "docs/deploy.md has no nginx block after the test's marker"
    return block.group(1)


def local_config(doc: str, replicas: Sequence[int], port: int) -> str:
    """The documented config, its upstream servers and listen port replaced by the test's."""
    lines, servers_done = [], False
    for line in doc.splitlines():
        server = _SERVER_LINE.match(line)
        if server:
            if not servers_done:
                lines += [f"{server.group(1)}127.0.0.1:{p}{server.group(2)}" for p in replicas]
                servers_done = True
            continue
        lines.append(re.sub(r"^(\s*)listen 80;", rf"\1listen 127.0.0.1:{port};", line))
    config = "\n".join(lines)
    assert servers_done and f"listen 127.0.0.1:{port};" in config, config
    return config


@contextlib.contextmanager
def nginx(workdir: Path, replicas: Sequence[int]) -> Iterator[int]:
    """nginx on a free loopback port in front of the replicas' HTTP ports, for the block; the port.

    nginx cannot listen on port 0 and say which port it got: a port found free is closed for it
    to bind, and another process may take it first. Then nginx fails to bind it (and exits, or
    is stopped here), and it starts again on another; the port is nginx's once nginx itself
    listens on it (its socket, not another server's, as /proc says)."""
    workdir.mkdir(parents=True, exist_ok=True)
    for _ in range(5):
        port = _free_port()
        with _nginx_on(workdir, replicas, port) as listening:
            if listening:
                yield port
                return
    raise AssertionError(f"nginx could not listen on 5 free ports: see {workdir / 'error.log'}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def _nginx_on(workdir: Path, replicas: Sequence[int], port: int) -> Iterator[bool]:
    """nginx on `port` for the block; whether it listens there."""
    (workdir / "aihub.conf").write_text(local_config(documented_config(), replicas, port))
    temp = " ".join(
        f"{kind}_temp_path {workdir / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (workdir / "nginx.conf").write_text(
        f"daemon off;\nworker_processes 1;\npid {workdir / 'nginx.pid'};\n"
        f"error_log {workdir / 'error.log'} warn;\nevents {{ worker_connections 1024; }}\n"
        f"http {{ access_log off; {temp} include {workdir / 'aihub.conf'}; }}\n"
    )
    command = [nginx_binary(), "-p", str(workdir), "-c", str(workdir / "nginx.conf")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    with subprocess.Popen(command, stderr=subprocess.DEVNULL) as process:
        try:
            yield _listening(port, process, workdir / "error.log")
        finally:
            process.terminate()
            process.wait(timeout=30)


def _listening(port: int, process: subprocess.Popen[bytes], error_log: Path) -> bool:
    """Wait until nginx listens on 127.0.0.1:`port` (True) or fails to bind it (False)."""
    refused = f"bind() to 127.0.0.1:{port} failed"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        if _listens(process.pid, port):
            return True
        if error_log.exists() and refused in error_log.read_text(errors="replace"):
            return False  # it retries for a while before it exits: no need to wait for that
        time.sleep(0.05)
    return False


def _listens(pid: int, port: int) -> bool:
    """Whether process `pid` holds a socket listening on 127.0.0.1:`port`."""
    local = f"0100007F:{port:04X}"
    with open("/proc/net/tcp", encoding="ascii") as table:
        inodes = {f"socket:[{row.split()[9]}]" for row in table if row.split()[1:4:2] == [local, "0A"]}
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    return True
    return False
