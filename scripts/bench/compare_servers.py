"""The shim's transport to the core, and its HTTP server, compared under the benchmark's load.

    scripts/bench/run  (once, for nginx + Lua and wrk), then
    .venv/bin/pip install granian hypercorn          (bench-only; not in pyproject.toml)
    .venv/bin/python scripts/bench/compare_servers.py [--rounds 3] [--only transports|servers]

It sets up the fake upstream and the gateway's database, user, plan and key exactly as bench.py
does (`Systems`), copies that database once per variant, starts every variant at once (each on
its own copy) and then drives them in turn, `--rounds` times, each round starting one later
(A B C, B C A, C A B, ...), so that the machine's drift and the position in a round fall on all
of them alike. Each turn: wrk REST `POST /v1/developer/chat` at 16 connections and at 1
connection (`Phases.wrk`, after a warm-up), and for the HTTP servers 50 concurrent SSE streams
(`Phases.streams`: every chunk must arrive; TTFT). CPU per request is utime + stime of the
variant's whole process tree over the phase, divided by the requests (as in bench.py).

Transports (the shim and the core as separate processes; the in-process channel for reference):
  same       `aihub serve`: shim + core in one process, the in-process channel (embedded uvicorn)
  tcp        core alone on 127.0.0.1 (gateway_app.py core) + `aihub serve --only http --core HOST:PORT`
  unix       the same over a Unix socket (`--core unix:PATH`)
HTTP servers (the shim and the core in one process and one event loop, gateway_app:app):
  uvicorn    uvicorn, httptools, uvloop (what `aihub serve` embeds)
  granian    granian --interface asgi --loop uvloop, 1 worker
  granian-rust  the same with --task-impl rust (Python < 3.12), only with --variants
  hypercorn  hypercorn --worker-class uvloop, 1 worker

Results: JSON and a Markdown table of every round and the medians in --out (default
.bench/compare/). Every process it starts is stopped at the end, also on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import datetime as dt
import importlib.metadata
import json
import os
import shlex
import shutil
import signal
import sqlite3
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import machine
from measure import RssSampler
from phases import Durations, Phases
from processes import HERE, PROCS, ROOT, VENV_BIN, free_port, http_json, http_ok, on_signal, say, wait_until
from systems import MESSAGE, Systems, Target

TRANSPORTS = ("same", "tcp", "unix")
SERVERS = ("uvicorn", "granian", "hypercorn")
EXTRA = ("granian-rust",)  # only with --variants: measured once, no better than granian
JWT_SECRET = "bench-jwt-secret-bench-jwt-secret-0123456789"  # as systems.py


def variant_argv(name: str, port: int, work: Path) -> list[str]:
    """The command line that starts variant `name` with its HTTP side on 127.0.0.1:`port`."""
    bin_, app = VENV_BIN, "gateway_app:app"
    if name == "same":
        return [str(bin_ / "aihub"), "serve", "--host", "127.0.0.1", "--http-port", str(port),
                "--grpc-port", str(free_port())]  # fmt: skip
    if name in ("tcp", "unix"):
        listen = f"127.0.0.1:{free_port()}" if name == "tcp" else f"unix:{work}/core-{port}.sock"
        # gateway_app.py binds a Unix socket as PATH:0 (see there).
        target = listen if name == "tcp" else f"{listen}:0"
        core = [str(bin_ / "python"), str(HERE / "gateway_app.py"), "core", listen]
        shim = [str(bin_ / "aihub"), "serve", "--only", "http", "--host", "127.0.0.1",
                "--http-port", str(port), "--core", target]  # fmt: skip
        # One parent (sh) so that CPU is accounted over both processes' tree.
        return ["sh", "-c", f"{shlex.join(core)} & {shlex.join(shim)} & wait"]
    if name == "uvicorn":
        return [str(bin_ / "uvicorn"), "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop",
                "--http", "httptools", "--no-access-log", "--no-proxy-headers", "--log-level", "warning",
                "--lifespan", "on", app]  # fmt: skip
    if name.startswith("granian"):  # granian-rust: its Rust task implementation (Python < 3.12)
        return [str(bin_ / "granian"), "--interface", "asgi", "--loop", "uvloop", "--workers", "1",
                "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning",
                *(["--task-impl", "rust"] if name == "granian-rust" else []), app]  # fmt: skip
    if name == "hypercorn":
        return [str(bin_ / "hypercorn"), "--worker-class", "uvloop", "--workers", "1",
                "--bind", f"127.0.0.1:{port}", "--log-level", "warning", app]  # fmt: skip
    raise ValueError(name)


@dataclass
class Compare(Systems, Phases):
    """The fake upstream, one prepared database, and the variants started on copies of it."""

    args: argparse.Namespace
    work: Path
    d: Durations
    sampler: RssSampler = field(default_factory=RssSampler)
    results: dict[str, Any] = field(default_factory=dict)

    def start_variant(self, name: str, hub: Target, db: Path, env: dict[str, str]) -> Target:
        copy = self.work / f"{name}.db"
        with sqlite3.connect(db) as src, sqlite3.connect(copy) as dst:
            src.backup(dst)
        port = free_port()
        env = {**env, "AIHUB_DATABASE_URL": f"sqlite:///{copy}"}
        log = self.work / f"{name}.log"
        pid = PROCS.start(name, variant_argv(name, port, self.work), log, env)
        base = f"http://127.0.0.1:{port}"
        wait_until(name, lambda: PROCS.check(pid) and http_ok(f"{base}/healthz"), 60, log)
        body = {"message": MESSAGE, "model": "fake-model", "service": "bench", "max_tokens": 50}
        answer = http_json("POST", f"{base}/v1/developer/chat", body, hub.key)
        if answer.get("metadata", {}).get("service_used") != "bench":
            raise RuntimeError(f"{name} did not answer from the fake upstream: {answer}")
        say(f"{name:9} on {base}, pid {pid}")
        return Target(name, f"{base}/v1/developer/chat", f"{base}/v1/developer/chat/stream",
                      hub.rest_body, hub.rest_body, key=hub.key, pid=pid)  # fmt: skip

    def run(self, names: list[str]) -> dict[str, Any]:
        a, r = self.args, self.results
        r.update(
            date=dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            command=" ".join(["scripts/bench/compare_servers.py", *sys.argv[1:]]),
            machine=machine(), servers=versions(), rounds=[],
        )  # fmt: skip
        direct = self.start_upstream()
        hub = self.start_gateway(direct)  # the database, user, plan and key, as bench.py sets them up
        PROCS.stop(hub.pid or 0)
        path = os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "AIHUB_CONFIG": str(self.work / "aihub.toml"), "AIHUB_JWT_SECRET": JWT_SECRET,
               "PYTHONUNBUFFERED": "1", "PYTHONPATH": path}  # fmt: skip
        for name in ("OPENROUTER_API_KEY", "GEMINI_API_KEY"):
            env.pop(name, None)
        targets = [self.start_variant(n, hub, self.work / "aihub.db", env) for n in names]
        for i in range(a.rounds):
            say(f"round {i + 1} of {a.rounds}")
            figures: dict[str, Any] = {}
            for t in targets[i % len(targets) :] + targets[: i % len(targets)]:  # each first in turn
                f = figures[t.name] = {"rest16": self.wrk(t, 16, self.d.rest), "rest1": self.wrk(t, 1, a.one)}
                if t.name not in TRANSPORTS and a.streams:
                    f["stream"] = self.streams(t, a.streams, self.d.stream)
            r["rounds"].append(figures)
        return r


def versions() -> dict[str, str]:
    """The HTTP servers' versions (this script runs on the project venv's Python)."""
    found = {}
    for name in ("uvicorn", "granian", "hypercorn", "uvloop", "httptools"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found[name] = importlib.metadata.version(name)
    return found


def row(f: dict[str, Any]) -> list[float]:
    """The figures of one variant in one round, in the table's column order."""
    r16, r1, s = f["rest16"], f["rest1"], f.get("stream")
    out = [r16["rps"], r16["cpu_ms_per_request"], r16["errors"],
           r1["latency_ms"]["p50"], r1["latency_ms"]["p99"], r1["cpu_ms_per_request"]]  # fmt: skip
    if s is not None:
        out += [s["streams_per_s"], s["ttft_ms"]["p50"] or 0, s["ttft_ms"]["p99"] or 0,
                s["errors"] + s["incomplete"], s.get("cpu_ms_per_stream", 0)]  # fmt: skip
    return [float(x) for x in out]


HEAD = ["req/s (16)", "CPU ms/req (16)", "errors (16)", "p50 ms (1)", "p99 ms (1)", "CPU ms/req (1)"]
STREAM_HEAD = ["streams/s (×50)", "TTFT p50 ms", "TTFT p99 ms", "errors+incomplete", "CPU ms/stream"]


def table(results: dict[str, Any], names: list[str]) -> str:
    """Markdown: every round of every variant, then the medians."""
    lines = []
    for group in (TRANSPORTS, SERVERS + EXTRA):
        shown = [n for n in names if n in group]
        if not shown:
            continue
        streams = any("stream" in rnd[n] for rnd in results["rounds"] for n in shown)
        head = ["variant", "round", *HEAD, *(STREAM_HEAD if streams else [])]
        lines += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for n in shown:
            rows = [row(rnd[n]) for rnd in results["rounds"]]
            for i, values in enumerate(rows, 1):
                lines.append(f"| {n} | {i} | " + " | ".join(f"{v:,.2f}" for v in values) + " |")
            medians = [statistics.median(col) for col in zip(*rows, strict=True)]
            lines.append(f"| **{n}** | median | " + " | ".join(f"**{v:,.2f}**" for v in medians) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", choices=["transports", "servers"], help="one of the two comparisons")
    p.add_argument(
        "--variants", help=f"instead of --only, comma-separated: {','.join(TRANSPORTS + SERVERS + EXTRA)}"
    )
    p.add_argument("--rounds", type=int, default=3, help="alternated rounds (default 3)")
    p.add_argument("--rest", type=float, default=15, help="seconds at 16 connections (default 15)")
    p.add_argument("--one", type=float, default=10, help="seconds at 1 connection (default 10)")
    p.add_argument("--streams", type=int, default=50, help="concurrent streams for the servers (0: none)")
    p.add_argument("--stream-seconds", type=float, default=10, help="seconds of streams (default 10)")
    p.add_argument("--chunks", type=int, default=20, help="stream content chunks (default 20)")
    p.add_argument("--chunk-ms", type=int, default=10, help="ms between stream chunks (default 10)")
    p.add_argument("--client-procs", type=int, default=os.cpu_count() or 2, help="stream client processes")
    p.add_argument("--out", default=str(ROOT / ".bench" / "compare"), help="results directory")
    p.set_defaults(workers=1)  # one gateway process, for Systems.start_gateway (bench.py's --workers)
    args = p.parse_args()
    names = [*(TRANSPORTS if args.only != "servers" else ()), *(SERVERS if args.only != "transports" else ())]
    if args.variants:
        names = args.variants.split(",")

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    atexit.register(PROCS.stop_all)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="aihub-compare-"))
    d = Durations(rest=args.rest, stream=args.stream_seconds)
    try:
        results = Compare(args, work, d).run(names)
    except BaseException:
        say(f"failed; logs are in {work}")
        raise
    finally:
        PROCS.stop_all()
    shutil.rmtree(work, ignore_errors=True)
    (out / "compare.json").write_text(json.dumps(results, indent=1) + "\n")
    text = table(results, names)
    (out / "compare.md").write_text(text)
    print(text)
    say(f"results in {out}/compare.json and compare.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
