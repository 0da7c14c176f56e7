"""The quick start as a user runs it: `aihub serve` in its own process, then `aihub users set-plan`."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

PROVIDER_ENV = (
    "OPENROUTER_API_KEY",
    "GEMINI_API_KEY",
    "AIHUB_DATABASE_URL",
    "AIHUB_JWT_SECRET",
    "AIHUB_CONFIG",
)


# What `aihub serve` says, alone on stderr, when a port is taken: .format(what, port, flag).
PORT_IN_USE = (
    "the {0} port 127.0.0.1:{1} is in use (another aihub serve?): stop what holds it, "
    "or choose another port with --{2}-port"
)


def aihub(*args: str) -> list[str]:
    return [sys.executable, "-m", "aihub_cli", *args]


def run_aihub(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run one `aihub` command to its end, its output captured."""
    return subprocess.run(aihub(*args), cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROVIDER_ENV}
    env["AIHUB_SIMULATOR_CHUNK_DELAY_MS"] = "0"
    return env


# Ports 0: each `aihub serve` binds ports the kernel picks, and its banner says which. A port
# picked by the test and closed for the child to bind could be taken first by any other process
# (a parallel test's server, or an outgoing connection's ephemeral port): the child would exit
# with "port in use" (code 2) before its banner.
PORTS_0 = ("--http-port", "0", "--grpc-port", "0")


class Served(subprocess.Popen[str]):
    """An `aihub` command in its own process: its stdout on a pipe (the banner), its stderr in
    a file of the test's folder (a pipe nobody reads would fill and stall it), shown when it
    fails to start or to stop."""

    def __init__(self, command: list[str], cwd: Path, env: dict[str, str]) -> None:
        handle, name = tempfile.mkstemp(prefix="stderr-", suffix=".log", dir=cwd)
        os.close(handle)
        self.stderr_path = Path(name)
        with self.stderr_path.open("a") as log:
            super().__init__(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=log, text=True)

    def stderr_text(self) -> str:
        """What it wrote to stderr so far."""
        return self.stderr_path.read_text(errors="replace")


def serve(cwd: Path, env: dict[str, str], *args: str) -> Served:
    """`aihub serve` with these arguments, on ports 0 unless they name ports."""
    ports = () if "--http-port" in args or "--grpc-port" in args else PORTS_0
    return Served(aihub("serve", *ports, *args), cwd, env)


def wait_for_banner(process: subprocess.Popen[str], last: str = "upstreams") -> str:
    """The banner, up to its line containing `last`; a failure with the process's exit status
    and stderr if it ends first (or has not printed it in 60 s: as long as `aihub serve
    --workers` gives its workers to start, which a loaded machine can take more than 30 s for)."""
    lines = []
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if last in line:
            return "".join(lines)
    process.kill()
    code = process.wait(timeout=30)
    errors = process.stderr_text() if isinstance(process, Served) else "(not kept)"
    raise AssertionError(f"no banner (exit status {code}): {''.join(lines)}\nstderr:\n{errors}")


def http_port_of(banner: str) -> int:
    """The HTTP port the banner names."""
    found = re.search(r"REST/SSE +http://[^/\s]+:(\d+)/", banner)
    assert found, banner
    return int(found.group(1))


def grpc_port_of(banner: str) -> int:
    """The gRPC port the banner names (the core's, for a shim alone)."""
    found = re.search(r"gRPC +[^\s]+:(\d+) ", banner)
    assert found, banner
    return int(found.group(1))


def stopped(process: subprocess.Popen[str], timeout: float = 30) -> None:
    """SIGTERM, then a failure with its stderr unless it exits 0 within `timeout` seconds."""
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=timeout)
    assert code == 0, (code, process.stderr_text() if isinstance(process, Served) else "")


def test_serve_answers_and_set_plan_changes_the_plan(tmp_path: Path) -> None:
    env = clean_env()
    with serve(tmp_path, env) as process:
        serve_and_set_plan(process, tmp_path, env)
    assert process.returncode == 0

    unknown = run_aihub(tmp_path, env, "users", "set-plan", "nobody@example.com", "free")
    assert unknown.returncode == 1 and "no user" in unknown.stderr
    bad_plan = run_aihub(tmp_path, env, "users", "set-plan", "cli@example.com", "platinum")
    assert bad_plan.returncode == 2 and "Unknown plan" in bad_plan.stderr


def serve_and_set_plan(process: Served, tmp_path: Path, env: dict[str, str]) -> None:
    try:
        banner = wait_for_banner(process)
        # Port 0 is the kernel's choice, never the defaults (8000 and 50051): the flags were heard.
        http_port, grpc_port = http_port_of(banner), grpc_port_of(banner)
        assert http_port != 8000 and grpc_port != http_port
        assert f"127.0.0.1:{grpc_port}   (reflection" in banner
        assert "openrouter: simulated" in banner and "gemini: simulated" in banner
        base = f"http://127.0.0.1:{http_port}"
        assert f"console    {base}/ " in banner
        with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:  # the port it named is its own
            health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=30)
            assert health.status == health_pb2.HealthCheckResponse.SERVING
        with httpx.Client(base_url=base, timeout=30) as client:
            console = client.get("/")  # the web console, served by `aihub serve` itself
            assert console.status_code == 200 and "/console/app.js" in console.text
            token = client.post(
                "/v1/auth/register", json={"email": "cli@example.com", "password": "pass-word"}
            )
            jwt = token.json()["token"]
            key = client.post(
                "/v1/developer/api-keys", json={"name": "k"}, headers={"Authorization": f"Bearer {jwt}"}
            ).json()["key"]
            auth = {"Authorization": f"Bearer {key}"}
            chat = client.post("/v1/developer/chat", json={"message": "Hello, AI Hub!"}, headers=auth)
            assert chat.status_code == 200 and chat.json()["metadata"]["simulated"] is True
            assert client.get("/v1/developer/quota", headers=auth).json()["plan"] == "free"

            changed = run_aihub(tmp_path, env, "users", "set-plan", "CLI@example.com", "professional")
            assert changed.returncode == 0, changed.stderr
            quota = client.get("/v1/developer/quota", headers=auth).json()
            assert quota["plan"] == "professional" and quota["rate_limit"]["requests_per_minute"] == 60
        assert (tmp_path / "aihub.db").exists()
    finally:
        stopped(process)


def test_core_and_shim_run_as_separate_processes(tmp_path: Path) -> None:
    env = clean_env()
    with serve(tmp_path, env, "--only", "grpc", "--grpc-port", "0") as core:
        try:
            grpc_port = grpc_port_of(wait_for_banner(core, "gRPC"))
            shim_flags = ("--only", "http", "--http-port", "0", "--core", f"127.0.0.1:{grpc_port}")
            with serve(tmp_path, env, *shim_flags) as shim:
                try:
                    banner = wait_for_banner(shim, "gRPC")
                    assert grpc_port_of(banner) == grpc_port  # the core it was given
                    base = f"http://127.0.0.1:{http_port_of(banner)}"
                    with httpx.Client(base_url=base, timeout=30) as client:
                        assert client.get("/healthz").json() == {"status": "ok"}
                        registered = client.post(
                            "/v1/auth/register", json={"email": "split@example.com", "password": "pass-word"}
                        )
                        assert registered.status_code == 201
                finally:
                    stopped(shim)
        finally:
            stopped(core)


def test_a_port_in_use_stops_the_start_in_one_line(tmp_path: Path) -> None:
    env = {**clean_env(), "AIHUB_JWT_SECRET": "s" * 32}
    for busy, what in ((0, "HTTP"), (1, "gRPC")):
        with socket.socket() as taken:
            taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            # The other port 0: only the busy one can stop the start (a port picked here and
            # closed could be taken by another process before the child checks it).
            ports = [0, 0]
            ports[busy] = taken.getsockname()[1]
            flags = ("--http-port", str(ports[0]), "--grpc-port", str(ports[1]))
            refused = run_aihub(tmp_path, env, "serve", *flags)
        assert refused.returncode == 2
        flag = "http" if what == "HTTP" else "grpc"
        assert refused.stderr == f"aihub: {PORT_IN_USE.format(what, ports[busy], flag)}\n"
        assert refused.stdout == ""
