"""The AI Hub benchmark: the gateway beside the upstream-direct baseline (and LiteLLM), in one run.

Run it through `scripts/bench/run`, which installs nginx (with Lua), wrk and matplotlib first.
It starts a fake OpenAI-compatible upstream (nginx + Lua), then `aihub serve` on a fresh database
with that upstream as an operator service and a user on an operator plan with no limits, and
measures, each phase against the upstream directly and through the gateway:

  rest-1 / rest-16   POST /v1/developer/chat (wrk, Lua POST body) at 1 and 16 connections
  sweep              the same at 2..64 connections, for the latency-against-load chart
  grpc-1             ChatService/Chat at one connection (grpc.aio client)
  stream-50/-1000    POST /v1/developer/chat/stream: TTFT and total time at 50 and 1,000
                     concurrent streams of N chunks M ms apart; every chunk must arrive
  soak               (--soak MINUTES) wrk at 16 connections, RSS sampled throughout

Gateway CPU per request comes from /proc/PID/stat (utime+stime of the gateway's processes) before
and after each phase; peak RSS is the sum of VmRSS over the gateway's processes, sampled every
100 ms. Every process this starts is stopped at the end, also on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import ctypes
import datetime as dt
import gzip
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
LITELLM_BIN = ROOT / ".bench" / "litellm-venv" / "bin"
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
EMAIL = "bench@example.com"
PASSWORD = "bench-password-123"
MESSAGE = "Hello from the benchmark"
SWEEP = [1, 2, 4, 8, 16, 32, 64]
LITELLM_VERSION = "import importlib.metadata as m; print(m.version('litellm'))"


@dataclass
class Durations:
    """Seconds per phase (measured; every phase also runs a short warm-up first)."""

    rest: float = 15
    sweep: float = 5
    grpc: float = 15
    stream: float = 10
    stream_big: float = 15
    warmup: float = 2
    profile: float = 15

    @classmethod
    def quick(cls) -> Durations:
        return cls(rest=3, sweep=2, grpc=3, stream=3, stream_big=4, warmup=1, profile=5)


# --- processes ------------------------------------------------------------------------------------


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


def _on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


# --- /proc ----------------------------------------------------------------------------------------


def tree(root: int) -> list[int]:
    """`root` and all its descendants that are alive."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        if Path(f"/proc/{pid}").exists():
            found.append(pid)
            todo.extend(children.get(pid, []))
    return found


def cpu_seconds(root: int) -> float:
    """utime + stime of `root` and its live descendants, in seconds."""
    total = 0
    for pid in tree(root):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / TICKS


def thread_ticks(pid: int) -> dict[int, tuple[str, int]]:
    """Every thread of `pid`: its name and utime + stime in clock ticks."""
    found = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat.rsplit(")", 1)[1].split()
            found[int(tid)] = (name, int(fields[11]) + int(fields[12]))
    return found


def rss_mb(root: int) -> float:
    """Resident memory of `root` and its live descendants, in MB (MiB)."""
    total = 0
    for pid in tree(root):
        with contextlib.suppress(OSError, IndexError):
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    return total / (1 << 20)


class RssSampler(threading.Thread):
    """Samples the RSS of some process trees every `interval` s; keeps the peaks and a time series."""

    def __init__(self, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.roots: dict[str, int] = {}
        self.peak: dict[str, float] = {}
        self.window_peak: dict[str, float] = {}
        self.series: dict[str, list[tuple[float, float]]] = {}
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.t0 = time.monotonic()

    def watch(self, name: str, pid: int) -> None:
        with self.lock:
            self.roots[name] = pid

    def unwatch(self, name: str) -> None:
        with self.lock:
            self.roots.pop(name, None)

    def reset_window(self) -> None:
        with self.lock:
            self.window_peak = {}

    def run(self) -> None:
        ticks = 0
        while not self.done.wait(self.interval):
            with self.lock:
                roots = dict(self.roots)
            for name, pid in roots.items():
                mb = rss_mb(pid)
                with self.lock:
                    self.peak[name] = max(self.peak.get(name, 0.0), mb)
                    self.window_peak[name] = max(self.window_peak.get(name, 0.0), mb)
                    if ticks % 10 == 0:
                        self.series.setdefault(name, []).append((time.monotonic() - self.t0, mb))
            ticks += 1


# --- helpers --------------------------------------------------------------------------------------


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


# --- the systems under test -----------------------------------------------------------------------


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


@dataclass
class Bench:
    args: argparse.Namespace
    work: Path
    d: Durations
    sampler: RssSampler = field(default_factory=RssSampler)
    results: dict[str, Any] = field(default_factory=dict)

    # -- set-up --

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
        env = {
            **os.environ,
            "AIHUB_CONFIG": str(config),
            "AIHUB_DATABASE_URL": f"sqlite:///{db}",
            "AIHUB_JWT_SECRET": "bench-jwt-secret-bench-jwt-secret-0123456789",
            "PYTHONUNBUFFERED": "1",
        }
        for name in ("OPENROUTER_API_KEY", "GEMINI_API_KEY"):
            env.pop(name, None)
        argv = [str(VENV_BIN / "aihub"), "serve", "--host", "127.0.0.1", "--http-port", str(http_port),
                "--grpc-port", str(grpc_port), "--db", f"sqlite:///{db}"]  # fmt: skip
        log = self.work / "aihub.log"
        pid = PROCS.start("aihub", argv, log, env)
        base = f"http://127.0.0.1:{http_port}"
        wait_until("aihub serve", lambda: PROCS.check(pid) and http_ok(f"{base}/healthz"), 60, log)

        token = http_json("POST", f"{base}/v1/auth/register", {"email": EMAIL, "password": PASSWORD})["token"]
        subprocess.run(
            [str(VENV_BIN / "aihub"), "users", "set-plan", "--db", f"sqlite:///{db}", EMAIL, "bench"],
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

    # -- measuring --

    @contextlib.contextmanager
    def accounted(self, target: Target, into: dict[str, Any]) -> Iterator[None]:
        """CPU seconds and peak RSS of `target`'s processes over the block, into `into`."""
        before = cpu_seconds(target.pid) if target.pid else 0.0
        self.sampler.reset_window()
        started = time.monotonic()
        yield
        into["wall_s"] = round(time.monotonic() - started, 2)
        if target.pid:
            into["server_cpu_s"] = round(cpu_seconds(target.pid) - before, 3)
            into["server_peak_rss_mb"] = round(self.sampler.window_peak.get(target.name, 0.0), 1)

    def wrk(self, target: Target, conns: int, duration: float, warm: bool = True) -> dict[str, Any]:
        out = self.work / f"wrk-{target.name}-{conns}.json"
        env = {**os.environ, "BENCH_BODY_FILE": str(target.rest_body), "BENCH_KEY": target.key,
               "BENCH_WRK_OUT": str(out)}  # fmt: skip
        threads = 1 if conns < 32 else 2

        def run(seconds: float) -> None:
            subprocess.run(
                ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{max(1, round(seconds))}s",
                 "--timeout", "10s", "-s", str(HERE / "post.lua"), target.rest_url],
                env=env, check=True, capture_output=True, timeout=seconds + 60,
            )  # fmt: skip

        if warm:
            run(self.d.warmup)
        result: dict[str, Any] = {}
        with self.accounted(target, result):
            run(duration)
        summary = json.loads(out.read_text())
        errors = sum(summary["errors"].values())
        seconds = summary["duration_us"] / 1e6
        result.update(
            conns=conns,
            requests=summary["requests"],
            errors=errors,
            error_detail=summary["errors"],
            rps=round(summary["requests"] / seconds, 1),
            latency_ms={k: round(v / 1000, 3) for k, v in summary["latency_us"].items()},
        )
        if "server_cpu_s" in result and summary["requests"]:
            result["cpu_ms_per_request"] = round(result["server_cpu_s"] * 1000 / summary["requests"], 3)
        say(
            f"{target.name:8} REST {conns:3} conn: {result['rps']:8.1f} req/s  "
            f"p50 {result['latency_ms']['p50']:.3f} ms  p99 {result['latency_ms']['p99']:.3f} ms  "
            f"errors {errors}" + (f"  cpu/req {result.get('cpu_ms_per_request')} ms" if target.pid else "")
        )
        return result

    def loadgen(self, target: Target, argv: list[str], timeout: float) -> dict[str, Any]:
        result: dict[str, Any] = {}
        with self.accounted(target, result):
            proc = subprocess.run(
                [str(VENV_BIN / "python"), str(HERE / "loadgen.py"), *argv],
                check=True, capture_output=True, text=True, timeout=timeout,
            )  # fmt: skip
        result.update(json.loads(proc.stdout))
        return result

    def streams(self, target: Target, concurrency: int, duration: float) -> dict[str, Any]:
        argv = ["stream", "--url", target.stream_url, "--body-file", str(target.stream_body),
                "--key", target.key, "--concurrency", str(concurrency), "--duration", str(duration),
                "--warmup", str(self.d.warmup), "--expect-chunks", str(self.args.chunks),
                "--procs", str(self.args.client_procs)]  # fmt: skip
        result = self.loadgen(target, argv, duration + self.d.warmup + 180)
        if "server_cpu_s" in result and result["streams"]:
            result["cpu_ms_per_stream"] = round(result["server_cpu_s"] * 1000 / result["streams"], 3)
        say(
            f"{target.name:8} streams x{concurrency:4}: {result['streams_per_s']:7.1f} streams/s  "
            f"TTFT p50 {result['ttft_ms']['p50'] or 0:.2f} p99 {result['ttft_ms']['p99'] or 0:.2f} ms  "
            f"total p50 {result['total_ms']['p50'] or 0:.1f} ms  errors {result['errors']}  "
            f"incomplete {result['incomplete']}"
        )
        return result

    def grpc(self, target: Target, concurrency: int, duration: float) -> dict[str, Any]:
        argv = ["grpc", "--target", target.grpc, "--key", target.key, "--concurrency", str(concurrency),
                "--duration", str(duration), "--warmup", str(self.d.warmup), "--procs", "1"]  # fmt: skip
        result = self.loadgen(target, argv, duration + self.d.warmup + 120)
        if "server_cpu_s" in result and result["calls"]:
            result["cpu_ms_per_request"] = round(result["server_cpu_s"] * 1000 / result["calls"], 3)
        say(
            f"{target.name:8} gRPC {concurrency:3} conc: {result['calls_per_s']:8.1f} calls/s  "
            f"p50 {result['latency_ms']['p50']:.3f} ms  p99 {result['latency_ms']['p99']:.3f} ms  "
            f"errors {result['errors']}"
        )
        return result

    def profile(self, target: Target) -> dict[str, Any]:
        """py-spy on the gateway while wrk drives REST at 16 connections."""
        pyspy = VENV_BIN / "py-spy"
        if not pyspy.exists() or target.pid is None:
            return {"error": "py-spy is not installed in .venv"}
        out: dict[str, Any] = {}
        env = {**os.environ, "BENCH_BODY_FILE": str(target.rest_body), "BENCH_KEY": target.key,
               "BENCH_WRK_OUT": str(self.work / "wrk-profile.json")}  # fmt: skip
        seconds = self.d.profile
        for fmt, path in (("raw", self.out / "profile.txt"), ("flamegraph", self.out / "profile.svg")):
            wrk = subprocess.Popen(
                ["wrk", "-t", "1", "-c", "16", "-d", f"{round(seconds + 3)}s", "-s", str(HERE / "post.lua"),
                 target.rest_url],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            try:
                time.sleep(1)
                threads_before, cpu_before = thread_ticks(target.pid), cpu_seconds(target.pid)
                spy = subprocess.run(
                    [str(pyspy), "record", "--pid", str(target.pid), "--duration", str(round(seconds)),
                     "--rate", "250", "--native", "--subprocesses", "--format", fmt, "--output", str(path),
                     ],
                    capture_output=True, text=True, timeout=seconds + 60,
                )  # fmt: skip
            finally:
                wrk.wait(seconds + 30)
            if spy.returncode != 0:
                out["error"] = (spy.stderr or spy.stdout)[-2000:]
                return out
            if fmt == "raw":  # collapsed stacks with native frames: megabytes, so compressed
                packed = path.with_name(path.name + ".gz")
                packed.write_bytes(gzip.compress(path.read_bytes()))
                path.unlink()
                path = packed
            out[fmt] = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
            if fmt == "raw":
                # Per thread: py-spy sees only Python threads; gRPC's C-core threads show up here.
                after = thread_ticks(target.pid)
                out["gateway_cpu_s"] = round(cpu_seconds(target.pid) - cpu_before, 3)
                out["threads_cpu_s"] = sorted(
                    ((f"{name} ({tid})", round((ticks - threads_before.get(tid, (name, 0))[1]) / TICKS, 3))
                     for tid, (name, ticks) in after.items()),
                    key=lambda item: -item[1],
                )  # fmt: skip
                wrk_out = json.loads((self.work / "wrk-profile.json").read_text())
                out["wrk_requests"] = wrk_out["requests"]
                out["wrk_seconds"] = round(wrk_out["duration_us"] / 1e6, 2)
        say(f"py-spy profile written to {out.get('raw')} and {out.get('flamegraph')}")
        return out

    def soak(self, target: Target, minutes: float) -> dict[str, Any]:
        """wrk at 16 connections for `minutes`, in slices; RSS and throughput per slice."""
        slices: list[dict[str, Any]] = []
        deadline = time.monotonic() + minutes * 60
        slice_s = 30.0 if minutes >= 2 else 10.0
        while time.monotonic() < deadline - 1:
            length = min(slice_s, deadline - time.monotonic())
            result = self.wrk(target, 16, max(1.0, length), warm=False)
            slices.append({
                "t_min": round((time.monotonic() - (deadline - minutes * 60)) / 60, 2),
                "rps": result["rps"], "errors": result["errors"], "p99_ms": result["latency_ms"]["p99"],
                "rss_mb": round(rss_mb(target.pid or 0), 1), "peak_rss_mb": result.get("server_peak_rss_mb"),
            })  # fmt: skip
        first, last = slices[0]["rss_mb"], slices[-1]["rss_mb"]
        return {
            "minutes": minutes, "slices": slices, "rss_first_mb": first, "rss_last_mb": last,
            "rss_growth_mb": round(last - first, 1),
            "peak_rss_mb": max(s["peak_rss_mb"] or 0 for s in slices),
            "requests": sum(s["rps"] for s in slices) * slice_s, "errors": sum(s["errors"] for s in slices),
        }  # fmt: skip

    # -- the run --

    def run(self) -> dict[str, Any]:
        a, d = self.args, self.d
        self.sampler.start()
        r = self.results
        r.update(
            date=dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            command=" ".join(["scripts/bench/run", *sys.argv[1:]]),
            machine=machine(),
            params={"chunks": a.chunks, "chunk_ms": a.chunk_ms, "durations": d.__dict__,
                    "quick": a.quick, "client_procs": a.client_procs},
        )  # fmt: skip
        direct = self.start_upstream()
        self.sampler.watch("direct", direct.pid or 0)
        hub = self.start_gateway(direct)
        self.sampler.watch("aihub", hub.pid or 0)
        targets = [direct, hub]
        if a.only == "profile":
            r["profile"] = self.profile(hub)
            return r
        if a.only == "soak":
            r["soak"] = self.soak(hub, a.soak or 10)
            r["peak_rss_mb"] = {name: round(mb, 1) for name, mb in self.sampler.peak.items()}
            return r
        if a.with_litellm:
            peer = self.start_litellm(direct)
            if peer is not None:
                self.sampler.watch("litellm", peer.pid or 0)
                targets.append(peer)
            else:
                say(f"LiteLLM is left out: {r.get('litellm_error', '')[:500]}")
        r["idle_rss_mb"] = {t.name: round(rss_mb(t.pid or 0), 1) for t in targets}

        rest: dict[str, dict[str, Any]] = {t.name: {} for t in targets}
        for conns in (1, 16):
            for t in targets:
                rest[t.name][str(conns)] = self.wrk(t, conns, d.rest)
        r["rest"] = rest

        r["grpc"] = {"1": self.grpc(hub, 1, d.grpc)}

        stream: dict[str, dict[str, Any]] = {t.name: {} for t in targets}
        for conc, seconds in ((50, d.stream), (1000, d.stream_big)):
            for t in targets:
                stream[t.name][str(conc)] = self.streams(t, conc, seconds)
        r["stream"] = stream

        if not a.no_sweep:
            sweep: dict[str, dict[str, Any]] = {t.name: {} for t in targets}
            for conns in SWEEP:
                for t in targets:
                    if str(conns) in rest[t.name]:
                        sweep[t.name][str(conns)] = rest[t.name][str(conns)]
                    else:
                        sweep[t.name][str(conns)] = self.wrk(t, conns, d.sweep)
            r["sweep"] = sweep

        if a.profile:
            r["profile"] = self.profile(hub)
        if a.soak:
            say(f"soak: {a.soak} minutes at 16 connections")
            r["soak"] = self.soak(hub, a.soak)

        r["peak_rss_mb"] = {name: round(mb, 1) for name, mb in self.sampler.peak.items()}
        r["rss_series"] = {name: [(round(t, 1), round(mb, 1)) for t, mb in s]
                           for name, s in self.sampler.series.items()}  # fmt: skip
        return r

    @property
    def out(self) -> Path:
        return Path(self.args.out)


def machine() -> dict[str, Any]:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])

    def version(argv: list[str]) -> str:
        with contextlib.suppress(Exception):
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            return (proc.stdout + proc.stderr).strip().splitlines()[0]
        return "?"

    py = str(VENV_BIN / "python")
    pkgs = "import importlib.metadata as m; print(' '.join(f'{p}={m.version(p)}' for p in " \
           "('aihub','grpcio','protobuf','starlette','uvicorn','httpx','h11')))"  # fmt: skip
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(mem_kb / (1 << 20), 1),
        "kernel": platform.release(),
        "os": version(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "python": version([py, "--version"]),
        "packages": version([py, "-c", pkgs]),
        "nginx": version(["nginx", "-v"]),
        "wrk": version(["wrk", "--version"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="short phases: a smoke run of every phase")
    parser.add_argument(
        "--soak", type=float, default=0, metavar="MINUTES", help="add a soak at 16 connections"
    )
    parser.add_argument(
        "--with-litellm", action="store_true", help="add LiteLLM proxy (2 workers) to the run"
    )
    parser.add_argument("--no-profile", dest="profile", action="store_false", help="skip the py-spy profile")
    parser.add_argument(
        "--only",
        choices=["profile", "soak"],
        help="only the profile or the soak, into profile.json/soak.json",
    )
    parser.add_argument("--no-sweep", action="store_true", help="skip the connections sweep (the chart)")
    parser.add_argument("--chunks", type=int, default=20, help="stream content chunks (default 20)")
    parser.add_argument("--chunk-ms", type=int, default=10, help="ms between stream chunks (default 10)")
    parser.add_argument(
        "--client-procs", type=int, default=os.cpu_count() or 2, help="stream client processes"
    )
    parser.add_argument("--out", default=str(ROOT / ".bench" / "results"), help="results directory")
    parser.add_argument("--keep", action="store_true", help="keep the temporary work directory (logs, db)")
    args = parser.parse_args()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    atexit.register(PROCS.stop_all)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="aihub-bench-"))
    bench = Bench(args, work, Durations.quick() if args.quick else Durations())
    try:
        results = bench.run()
    except BaseException:
        say(f"failed; logs are in {work}")
        args.keep = True
        raise
    finally:
        bench.sampler.done.set()
        PROCS.stop_all()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    if args.only == "soak":
        (out / "soak.json").write_text(json.dumps(results, indent=1) + "\n")
        print(json.dumps({k: v for k, v in results["soak"].items() if k != "slices"}, indent=1))
        return 0
    if args.only == "profile":
        from profile_summary import summarize

        profile = results["profile"]
        (out / "profile.json").write_text(json.dumps(results, indent=1) + "\n")
        if "raw" in profile:
            share = profile["wrk_requests"] * round(bench.d.profile) / profile["wrk_seconds"]
            text = gzip.decompress((ROOT / profile["raw"]).read_bytes()).decode()
            print(summarize(text, round(share), profile["gateway_cpu_s"]))
        print(json.dumps(profile.get("threads_cpu_s", profile), indent=1))
        return 0

    from report import write_report  # matplotlib is only needed here

    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    table = write_report(results, out)
    print(table)
    say(f"results in {out}/results.json, results.md and latency.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
