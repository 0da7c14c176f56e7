"""The systems under test: the fake upstream (nginx + Lua), the gateway (`aihub serve`) and LiteLLM.

`Systems.start_*` starts one of them (through `PROCS`), waits until it answers, checks one request
and returns the `Target` the load phases drive.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cluster import create_database, database_url, drop_database, replicas_argv, start_balancer
from processes import HERE, PROCS, ROOT, VENV_BIN, free_port, http_json, http_ok, say, wait_until

LITELLM_BIN = ROOT / ".bench" / "litellm-venv" / "bin"
EMAIL = "bench@example.com"
PASSWORD = "bench-password-123"
MESSAGE = "Hello from the benchmark"
LITELLM_VERSION = "import importlib.metadata as m; print(m.version('litellm'))"


@dataclass
class Target:
    """One thing the load goes to: the upstream directly, AI Hub, or LiteLLM."""

    name: str
    rest_url: str
    stream_url: str
    rest_body: Path
    stream_body: Path
    key: str = ""
    pid: int | None = None  # the process tree whose CPU and RSS we account
    grpc: str = ""


class Systems:
    """Starting the systems under test; mixed into `Bench`, whose fields these are."""

    args: argparse.Namespace
    work: Path
    results: dict[str, Any]
    shared: dict[str, Any]  # what --postgres/--replicas started: database, Redis port, replica ports
    # What runs the gateway (scripts/bench/instructions.py puts it under callgrind), and how long
    # its start may take.
    gateway_runner: tuple[str, ...] = ()
    gateway_start_seconds: float = 60

    def start_upstream(self) -> Target:
        port = free_port()
        conf = (HERE / "nginx.conf.in").read_text()
        for name, value in {
            "@DIR@": str(self.work / "nginx"),
            "@PORT@": str(port),
            "@CHUNKS@": str(self.args.chunks),
            "@CHUNK_MS@": str(self.args.chunk_ms),
            "@LUA@": str(HERE / "fake_upstream.lua"),
        }.items():
            conf = conf.replace(name, value)
        (self.work / "nginx").mkdir()
        (self.work / "nginx" / "nginx.conf").write_text(conf)
        log = self.work / "nginx.log"
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        pid = PROCS.start(
            "nginx",
            [nginx, "-p", str(self.work / "nginx"), "-c", str(self.work / "nginx" / "nginx.conf"),
             "-e", str(self.work / "nginx" / "nginx-error.log")],
            log,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        wait_until("the fake upstream (nginx)", lambda: http_ok(f"{base}/healthz"), 15, log)
        openai = {"model": "fake-model", "messages": [{"role": "user", "content": MESSAGE}], "max_tokens": 50}
        rest_body = self.work / "direct-body.json"
        rest_body.write_text(json.dumps(openai))
        stream_body = self.work / "direct-stream-body.json"
        stream_body.write_text(
            json.dumps({**openai, "stream": True, "stream_options": {"include_usage": True}})
        )
        url = f"{base}/v1/chat/completions"
        say(f"fake upstream (nginx + Lua, 1 worker) on {base}")
        return Target("direct", url, url, rest_body, stream_body, pid=pid)

    def start_gateway(self, upstream: Target) -> Target:
        http_port, grpc_port = free_port(), free_port()
        db = self.work / "aihub.db"
        config = self.work / "aihub.toml"
        config.write_text(
            f"""
[[services]]
name = "bench"
kind = "openai-compatible"
base_url = "{upstream.rest_url.rsplit("/chat/completions", 1)[0]}"
default_model = "fake-model"
models = [
  {{ id = "fake-model", context_length = 131072, prompt_price = 0.000001, completion_price = 0.000002 }},
]

[plans.bench]
requests_per_minute = 0
tokens_per_minute = 0
concurrent_requests = 0
monthly_requests = 0
"""
        )
        db_url = f"sqlite:///{db}"
        if self.args.postgres:
            name = create_database(self.args.postgres)
            atexit.register(drop_database, self.args.postgres, name)
            db_url = database_url(self.args.postgres, name)
            self.shared["database"] = name
            say(f"PostgreSQL: database {name} (dropped at exit) on {self.args.postgres}")
        env = {
            **os.environ,
            "AIHUB_CONFIG": str(config),
            "AIHUB_DATABASE_URL": db_url,
            "AIHUB_JWT_SECRET": "bench-jwt-secret-bench-jwt-secret-0123456789",
            "PYTHONUNBUFFERED": "1",
        }
        for name in ("OPENROUTER_API_KEY", "GEMINI_API_KEY"):
            env.pop(name, None)
        log = self.work / "aihub.log"
        if self.args.replicas > 1:
            base, grpc_port, pid = self._start_replicas(env, log)
        else:
            argv = [str(VENV_BIN / "aihub"), "serve", "--host", "127.0.0.1", "--http-port", str(http_port),
                    "--grpc-port", str(grpc_port)]  # fmt: skip
            if self.args.workers > 1:
                argv = self._with_redis([*argv, "--workers", str(self.args.workers)], env)
            pid = PROCS.start("aihub", [*self.gateway_runner, *argv], log, env)
            base = f"http://127.0.0.1:{http_port}"
            up = lambda: PROCS.check(pid) and http_ok(f"{base}/healthz")  # noqa: E731
            wait_until("aihub serve", up, self.gateway_start_seconds, log)

        token = http_json("POST", f"{base}/v1/auth/register", {"email": EMAIL, "password": PASSWORD})["token"]
        subprocess.run(
            [str(VENV_BIN / "aihub"), "users", "set-plan", EMAIL, "bench"],
            env=env, check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        key = http_json("POST", f"{base}/v1/developer/api-keys", {"name": "bench"}, token)["key"]
        quota = http_json("GET", f"{base}/v1/developer/quota", token=key)
        body = {"message": MESSAGE, "model": "fake-model", "service": "bench", "max_tokens": 50}
        answer = http_json("POST", f"{base}/v1/developer/chat", body, key)
        meta = answer.get("metadata", {})
        if meta.get("service_used") != "bench" or meta.get("simulated"):
            raise RuntimeError(f"the gateway did not answer from the fake upstream: {answer}")
        rest_body = self.work / "aihub-body.json"
        rest_body.write_text(json.dumps(body))
        say(
            f"aihub serve on {base} (gRPC 127.0.0.1:{grpc_port}), pid {pid}; quota: {json.dumps(quota)[:160]}"
        )
        self.results["gateway_quota"] = quota
        return Target(
            "aihub", f"{base}/v1/developer/chat", f"{base}/v1/developer/chat/stream", rest_body, rest_body,
            key=key, pid=pid, grpc=f"127.0.0.1:{grpc_port}",
        )  # fmt: skip

    def openai_route(self, hub: Target) -> Target:
        """The gateway's OpenAI-compatible `POST /v1/chat/completions`, on the same fake upstream
        and key as the developer route, with the same prompt and token limit."""
        base = hub.rest_url.rsplit("/v1/", 1)[0]
        body = {
            "model": "bench:fake-model",
            "messages": [{"role": "user", "content": MESSAGE}],
            "max_tokens": 50,
        }
        answer = http_json("POST", f"{base}/v1/chat/completions", body, hub.key)
        if answer.get("object") != "chat.completion" or answer.get("model") != "fake-model":
            raise RuntimeError(f"the OpenAI route did not answer from the fake upstream: {answer}")
        path = self.work / "openai-body.json"
        path.write_text(json.dumps(body))
        url = f"{base}/v1/chat/completions"
        return Target("openai", url, url, path, path, key=hub.key, pid=hub.pid, grpc=hub.grpc)

    def _redis(self, env: dict[str, str]) -> list[str]:
        """A private redis-server for the shared limits (its argv), named in `env`."""
        redis = shutil.which("redis-server")
        if redis is None:
            raise RuntimeError("--workers/--replicas need redis-server (apt-get install redis-server)")
        port = free_port()
        env["AIHUB_REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
        self.shared["redis_port"] = port
        say(f"Redis for the shared limits: {redis} on port {port}")
        return [redis, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", str(self.work), "--logfile", str(self.work / "redis.log")]  # fmt: skip

    def _with_redis(self, argv: list[str], env: dict[str, str]) -> list[str]:
        """Several workers share their limits through Redis: a private redis-server, started by a
        shell that then becomes the gateway, so Redis is in the gateway's process tree and its CPU
        and memory count as the gateway's."""
        redis_argv = self._redis(env)
        port = redis_argv[redis_argv.index("--port") + 1]
        ping = f"redis-cli -p {port} ping >/dev/null 2>&1"
        wait = f"for _ in $(seq 200); do {ping} && break; sleep 0.05; done"
        return ["sh", "-c", f"{shlex.join(redis_argv)} & {wait}; exec {shlex.join(argv)}"]

    def _start_replicas(self, env: dict[str, str], log: Path) -> tuple[str, int, int]:
        """`--replicas N`: Redis and N `aihub serve` (one shell's tree), nginx in front; the
        balancer's base URL, the first replica's gRPC port, and the tree's pid."""
        ports = [free_port() for _ in range(self.args.replicas)]
        argv = [str(VENV_BIN / "aihub"), "serve", "--host", "127.0.0.1", "--http-port", "{http}",
                "--grpc-port", "{grpc}"]  # fmt: skip
        if self.args.workers > 1:
            argv += ["--workers", str(self.args.workers)]
        grpc_ports = [free_port() for _ in ports]
        shell = replicas_argv(argv, list(zip(ports, grpc_ports, strict=True)), self._redis(env))
        pid = PROCS.start("aihub", shell, log, env)
        for port in ports:
            health = f"http://127.0.0.1:{port}/healthz"
            wait_until("a replica", lambda h=health: PROCS.check(pid) and http_ok(h), 90, log)  # type: ignore[misc]
        balancer, _ = start_balancer(self.work, ports)
        self.shared["replica_ports"] = ports
        return balancer, grpc_ports[0], pid

    def start_litellm(self, upstream: Target) -> Target | None:
        litellm = LITELLM_BIN / "litellm"
        if not litellm.exists():
            self.results["litellm_error"] = f"{litellm} is missing (the install failed; see the run's output)"
            return None
        port = free_port()
        config = self.work / "litellm.yaml"
        api_base = upstream.rest_url.rsplit("/chat/completions", 1)[0]
        config.write_text(
            "model_list:\n"
            "  - model_name: fake-model\n"
            "    litellm_params:\n"
            "      model: openai/fake-model\n"
            f"      api_base: {api_base}\n"
            "      api_key: sk-bench\n"
            "litellm_settings:\n"
            "  telemetry: false\n"
            "  turn_off_message_logging: true\n"
        )
        master = "sk-bench-master-key"  # LiteLLM refuses to boot without one
        env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR",
               "LITELLM_MASTER_KEY": master,
               "LITELLM_TELEMETRY": "False", "PYTHONUNBUFFERED": "1"}  # fmt: skip
        argv = [str(litellm), "--config", str(config), "--host", "127.0.0.1", "--port", str(port),
                "--num_workers", "2"]  # fmt: skip
        log = self.work / "litellm.log"
        pid = PROCS.start("litellm", argv, log, env)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until("litellm", lambda: PROCS.check(pid) and http_ok(f"{base}/health/liveliness"), 180, log)
            url = f"{base}/v1/chat/completions"
            body = json.loads(upstream.rest_body.read_text())
            http_json("POST", url, body, master)
        except Exception as exc:
            self.results["litellm_error"] = str(exc)[:2000]
            PROCS.stop(pid)
            return None
        version = subprocess.run(
            [str(LITELLM_BIN / "python"), "-c", LITELLM_VERSION],
            capture_output=True, text=True, timeout=60,
        ).stdout.strip()  # fmt: skip
        self.results.setdefault("versions", {})["litellm"] = version
        say(f"LiteLLM proxy {version} on {base} (2 workers), pid {pid}")
        return Target("litellm", url, url, upstream.rest_body, upstream.stream_body, key=master, pid=pid)
