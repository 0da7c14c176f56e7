"""`aihub serve --workers N` as an operator runs it: several processes, one port, one set of limits."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import httpx
import pytest

from aihub.v1 import chat_service_pb2, chat_service_pb2_grpc
from aihub_cli.workers import worker_command
from aihub_core.settings import Settings
from tests.stalled_calls import UPSTREAM_ENV, kill_a_worker_mid_calls, stalling_upstream
from tests.test_cli import (
    PORT_IN_USE,
    Served,
    clean_env,
    grpc_port_of,
    http_port_of,
    run_aihub,
    serve,
    stopped,
    wait_for_banner,
)
from tests.waiting import within_one_minute

REDIS_URL = os.environ.get("AIHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

PLANS = """
[plans.tight]
requests_per_minute = 5
tokens_per_minute = 0
concurrent_requests = 0
monthly_requests = 0

[plans.open]
requests_per_minute = 0
tokens_per_minute = 0
concurrent_requests = 0
monthly_requests = 0
"""


def _plans_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    (tmp_path / "aihub.toml").write_text(PLANS)
    return {
        **clean_env(),
        "AIHUB_REDIS_URL": REDIS_URL,
        "AIHUB_CONFIG": str(tmp_path / "aihub.toml"),
        **extra,
    }


def _set_plan(tmp_path: Path, env: dict[str, str], email: str, plan: str) -> None:
    done = run_aihub(tmp_path, env, "users", "set-plan", email, plan)
    assert done.returncode == 0, done.stderr


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as gone; so does one reaped since.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):  # gone while its stat was opened or read
        return False


def _wait_gone(pids: list[int], seconds: float = 30) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = [pid for pid in pids if _alive(pid)]
        if not left:
            return []
        time.sleep(0.1)
    return [pid for pid in pids if _alive(pid)]


def _worker_pids(banner: str) -> list[int]:
    found = re.search(r"pids ([\d, ]+)\)", banner)
    assert found, banner
    return [int(pid) for pid in found.group(1).split(", ")]


def _start(tmp_path: Path, *extra: str, env: dict[str, str]) -> Served:
    """`aihub serve --workers 2` on ports 0 (the supervisor picks them and holds them)."""
    return serve(tmp_path, env, "--workers", "2", "--http-port", "0", "--grpc-port", "0", *extra)


def at_once(base: str, auth: dict[str, str], count: int) -> list[int]:
    """`count` chat calls at once, each on a new connection (so the kernel hands them to every
    worker): their status codes."""

    def call(_: int) -> int:
        with httpx.Client(base_url=base, timeout=30) as client:
            return client.post("/v1/developer/chat", json={"message": "hi"}, headers=auth).status_code

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(call, range(count)))


def _key(client: httpx.Client, email: str) -> dict[str, str]:
    registered = client.post("/v1/auth/register", json={"email": email, "password": "pass-word"})
    jwt = registered.json()["token"]
    key = client.post(
        "/v1/developer/api-keys", json={"name": "k"}, headers={"Authorization": f"Bearer {jwt}"}
    ).json()["key"]
    return {"Authorization": f"Bearer {key}"}


def test_more_than_one_core_needs_shared_limits(tmp_path: Path) -> None:
    env = clean_env()
    env.pop("AIHUB_REDIS_URL", None)
    refused = run_aihub(tmp_path, env, "serve", "--workers", "2")
    assert refused.returncode == 2 and "AIHUB_REDIS_URL" in refused.stderr
    zero = run_aihub(tmp_path, env, "serve", "--workers", "0")
    assert zero.returncode == 2 and "at least 1" in zero.stderr
    shared = {**env, "AIHUB_REDIS_URL": REDIS_URL}
    memory = run_aihub(tmp_path, shared, "serve", "--workers", "2", "--db", "sqlite:///:memory:")
    assert memory.returncode == 2 and "in-memory" in memory.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        shims = ("--workers", "2", "--only", "http", "--core", "127.0.0.1:1", "--http-port", port)
        busy = run_aihub(tmp_path, env, "serve", *shims)
    assert busy.returncode == 2 and busy.stderr == f"aihub: {PORT_IN_USE.format('HTTP', port, 'http')}\n"
    assert not (tmp_path / "aihub.db").exists()  # refused before anything was created


def test_workers_hold_one_limit_survive_a_crash_and_stop_together(tmp_path: Path) -> None:
    env = _plans_env(tmp_path)
    with _start(tmp_path, env=env) as process:
        try:
            banner = wait_for_banner(process, "limits")
            pids = _worker_pids(banner)
            assert len(pids) == 2
            base = f"http://127.0.0.1:{http_port_of(banner)}"
            with httpx.Client(base_url=base, timeout=30) as client:
                auth = _key(client, "workers@example.com")
            _set_plan(tmp_path, env, "workers@example.com", "tight")
            # The twelve calls and the gRPC one in one minute window: across two, the tight plan's
            # 5 a minute would be admitted twice over (10 of 12: seen in CI). The twelve at once,
            # so they take one call's time, not twelve (one after another they could take more
            # than the 20 s on a loaded machine, where one call took up to 8 s).
            within_one_minute(20)
            codes = at_once(base, auth, 12)
            assert codes.count(200) == 5 and codes.count(429) == 7, codes
            # The gRPC port is the workers' too, and their limit is the same one.
            with (
                grpc.insecure_channel(f"127.0.0.1:{grpc_port_of(banner)}") as channel,
                pytest.raises(grpc.RpcError) as refused,
            ):
                chat_service_pb2_grpc.ChatServiceStub(channel).Chat(
                    chat_service_pb2.ChatRequest(message="hi"),
                    metadata=(("authorization", auth["Authorization"]),),
                    timeout=30,
                )
            assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED

            os.kill(pids[0], signal.SIGKILL)
            assert _wait_gone([pids[0]]) == []
            deadline = time.monotonic() + 30
            answered = 0
            while time.monotonic() < deadline and answered < 6:
                with httpx.Client(base_url=base, timeout=30) as client:
                    answered += client.get("/healthz").status_code == 200
            assert answered == 6
            with httpx.Client(base_url=base, timeout=30) as client:
                metrics = client.get("/metrics").text
            # Every worker's requests, the dead one's included, in one scrape.
            chats = re.search(
                r'aihub_http_requests_total\{method="POST",route="/v1/developer/chat",status="200"\} (\S+)',
                metrics,
            )
            assert chats and float(chats.group(1)) == 5.0, metrics
            # The cores' usage alert counters summed into one series each (not one per worker),
            # and the outbox's gauges once, read by the worker that answered.
            for series in (
                "aihub_alert_crossings_total ",
                'aihub_alert_deliveries_total{outcome="delivered"} ',
                'aihub_alert_deliveries_total{outcome="failed"} ',
                "aihub_alert_outbox_owed 0.0",
                "aihub_alert_outbox_oldest_age_seconds 0.0",
            ):
                assert metrics.count("\n" + series) == 1, (series, metrics)
        finally:
            stopped(process, timeout=60)
    assert _wait_gone(pids) == []


def test_workers_stop_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    env = {**clean_env(), "AIHUB_REDIS_URL": REDIS_URL}
    with _start(tmp_path, env=env) as process:
        pids = _worker_pids(wait_for_banner(process, "limits"))
        process.kill()
        process.wait(timeout=30)
    assert _wait_gone(pids) == []


def test_shim_workers_need_no_shared_state(tmp_path: Path) -> None:
    env = clean_env()
    env.pop("AIHUB_REDIS_URL", None)
    with serve(tmp_path, env, "--only", "grpc", "--grpc-port", "0") as core:
        try:
            grpc_port = grpc_port_of(wait_for_banner(core, "upstreams"))
            with _start(tmp_path, "--only", "http", "--core", f"127.0.0.1:{grpc_port}", env=env) as shims:
                try:
                    banner = wait_for_banner(shims, "gRPC")
                    assert grpc_port_of(banner) == grpc_port
                    http_port = http_port_of(banner)
                    with httpx.Client(base_url=f"http://127.0.0.1:{http_port}", timeout=30) as client:
                        auth = _key(client, "shims@example.com")
                        chat = client.post("/v1/developer/chat", json={"message": "hi"}, headers=auth)
                        assert chat.status_code == 200
                    # A second group of workers on the same port is refused, not let into the
                    # first group's SO_REUSEPORT sockets (which would split the traffic).
                    again = ("--workers", "2", "--only", "http", "--core", f"127.0.0.1:{grpc_port}")
                    second = run_aihub(tmp_path, env, "serve", *again, "--http-port", str(http_port))
                    assert second.returncode == 2
                    assert second.stderr == f"aihub: {PORT_IN_USE.format('HTTP', http_port, 'http')}\n"
                finally:
                    stopped(shims, timeout=60)
        finally:
            stopped(core)


def _statuses(db: Path) -> list[tuple[str, bool]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        rows = conn.execute("SELECT status, recovered FROM usage_records")
        return sorted((status, bool(recovered)) for status, recovered in rows)


def test_a_killed_workers_calls_are_settled_at_once_and_the_others_run_on(tmp_path: Path) -> None:
    env = _plans_env(tmp_path, **UPSTREAM_ENV)
    with stalling_upstream(tmp_path / "aihub.toml"), _start(tmp_path, env=env) as process:
        try:
            banner = wait_for_banner(process, "limits")
            pids, http_port = _worker_pids(banner), http_port_of(banner)
            base = f"http://127.0.0.1:{http_port}"
            with httpx.Client(base_url=base, timeout=30) as client:
                auth = _key(client, "crash@example.com")
            _set_plan(tmp_path, env, "crash@example.com", "open")  # as many streams as it takes
            kill_a_worker_mid_calls(base, auth, pids, http_port, lambda: _statuses(tmp_path / "aihub.db"))
        finally:
            stopped(process, timeout=60)


def test_a_workers_command_line_carries_no_database_url() -> None:
    """The URL may hold a password, and every user of the machine reads command lines: the workers
    get it through their environment."""
    settings = Settings.from_env({"AIHUB_DATABASE_URL": "postgresql://aihub:pw-in-url@db/aihub"})
    command = worker_command(settings, None, None, 8000, 50051)
    assert not [part for part in command if "pw-in-url" in part or "postgresql" in part]
