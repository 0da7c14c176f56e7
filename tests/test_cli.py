"""The quick start as a user runs it: `aihub serve` in its own process, then `aihub users set-plan`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def aihub(*args: str) -> list[str]:
    return [sys.executable, "-m", "aihub_cli", *args]


def run_aihub(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run one `aihub` command to its end, its output captured."""
    return subprocess.run(aihub(*args), cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROVIDER_ENV}
    env["AIHUB_SIMULATOR_CHUNK_DELAY_MS"] = "0"
    return env


def wait_for_banner(process: subprocess.Popen[str], last: str = "upstreams") -> str:
    lines = []
    deadline = time.monotonic() + 30
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if last in line:
            return "".join(lines)
    process.kill()
    raise AssertionError("no banner: " + "".join(lines))


def start_serve(tmp_path: Path, env: dict[str, str], http_port: int, grpc_port: int) -> subprocess.Popen[str]:
    """`aihub serve` on these ports in its own process, its banner on a pipe."""
    return subprocess.Popen(
        aihub("serve", "--http-port", str(http_port), "--grpc-port", str(grpc_port)),
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def test_serve_answers_and_set_plan_changes_the_plan(tmp_path: Path) -> None:
    http_port, grpc_port = free_port(), free_port()
    env = clean_env()
    with start_serve(tmp_path, env, http_port, grpc_port) as process:
        serve_and_set_plan(process, tmp_path, http_port, grpc_port, env)
    assert process.returncode == 0

    unknown = run_aihub(tmp_path, env, "users", "set-plan", "nobody@example.com", "free")
    assert unknown.returncode == 1 and "no user" in unknown.stderr
    bad_plan = run_aihub(tmp_path, env, "users", "set-plan", "cli@example.com", "platinum")
    assert bad_plan.returncode == 2 and "Unknown plan" in bad_plan.stderr


def serve_and_set_plan(
    process: subprocess.Popen[str], tmp_path: Path, http_port: int, grpc_port: int, env: dict[str, str]
) -> None:
    try:
        banner = wait_for_banner(process)
        assert f"http://127.0.0.1:{http_port}" in banner and f"127.0.0.1:{grpc_port}" in banner
        assert "openrouter: simulated" in banner and "gemini: simulated" in banner
        base = f"http://127.0.0.1:{http_port}"
        assert f"console    {base}/ " in banner
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
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0


def test_core_and_shim_run_as_separate_processes(tmp_path: Path) -> None:
    http_port, grpc_port = free_port(), free_port()
    env = clean_env()
    core_cmd = aihub("serve", "--only", "grpc", "--grpc-port", str(grpc_port))
    shim_cmd = aihub(
        "serve", "--only", "http", "--http-port", str(http_port), "--core", f"127.0.0.1:{grpc_port}"
    )
    with subprocess.Popen(
        core_cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as core:
        try:
            assert "gRPC" in wait_for_banner(core, "gRPC")
            with subprocess.Popen(
                shim_cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
            ) as shim:
                try:
                    assert f":{http_port}" in wait_for_banner(shim, "gRPC")
                    with httpx.Client(base_url=f"http://127.0.0.1:{http_port}", timeout=30) as client:
                        assert client.get("/healthz").json() == {"status": "ok"}
                        registered = client.post(
                            "/v1/auth/register", json={"email": "split@example.com", "password": "pass-word"}
                        )
                        assert registered.status_code == 201
                finally:
                    shim.send_signal(signal.SIGTERM)
                    assert shim.wait(timeout=30) == 0
        finally:
            core.send_signal(signal.SIGTERM)
            assert core.wait(timeout=30) == 0


def test_a_port_in_use_stops_the_start_in_one_line(tmp_path: Path) -> None:
    env = {**clean_env(), "AIHUB_JWT_SECRET": "s" * 32}
    for busy, what in ((0, "HTTP"), (1, "gRPC")):
        with socket.socket() as taken:
            taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            ports = [free_port(), free_port()]
            ports[busy] = taken.getsockname()[1]
            flags = ("--http-port", str(ports[0]), "--grpc-port", str(ports[1]))
            refused = run_aihub(tmp_path, env, "serve", *flags)
        assert refused.returncode == 2
        flag = "http" if what == "HTTP" else "grpc"
        assert refused.stderr == f"aihub: {PORT_IN_USE.format(what, ports[busy], flag)}\n"
        assert refused.stdout == ""
