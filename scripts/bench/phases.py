"""The load phases, each against one target: wrk REST, gRPC and streams (loadgen.py), profile, soak.

Each phase returns its figures as a dict for results.json and prints a one-line summary.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from measure import TICKS, RssSampler, accounted, cpu_seconds, rss_mb, thread_ticks
from processes import HERE, ROOT, VENV_BIN, say
from systems import Target


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


class Phases:
    """The load phases; mixed into `Bench`, whose fields these are."""

    args: argparse.Namespace
    work: Path
    d: Durations
    sampler: RssSampler

    @property
    def out(self) -> Path:
        return Path(self.args.out)

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
        with accounted(self.sampler, target, result):
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
        command = [str(VENV_BIN / "python"), str(HERE / "loadgen.py"), *argv]
        with accounted(self.sampler, target, result):
            # Its own session: loadgen's worker processes go with it on a timeout, error or Ctrl-C
            # (subprocess.run would kill loadgen alone and leave its pool running).
            proc = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
            )
            try:
                out, err = proc.communicate(timeout=timeout)
            except BaseException:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                raise
        if proc.returncode:
            raise subprocess.CalledProcessError(proc.returncode, command, out, err)
        result.update(json.loads(out))
        return result

    def streams(self, target: Target, concurrency: int, duration: float) -> dict[str, Any]:
        argv = ["stream", "--url", target.stream_url, "--body-file", str(target.stream_body),
                "--key", target.key, "--concurrency", str(concurrency), "--duration", str(duration),
                "--warmup", str(self.d.warmup), "--expect-chunks", str(self.args.chunks),
                "--procs", str(self.args.client_procs)]  # fmt: skip
        threads_before = thread_ticks(target.pid) if target.pid else {}
        result = self.loadgen(target, argv, duration + self.d.warmup + 180)
        if target.pid and target.pid in threads_before:
            # The event loop's thread (the main one): its CPU over the time the load ran (the
            # wall time less loadgen's connecting, 1 s + concurrency/500) is how busy the loop was
            # (near 1.0, new streams queue for it, and TTFT is that queue).
            after = thread_ticks(target.pid)
            loop_s = (after[target.pid][1] - threads_before[target.pid][1]) / TICKS
            loaded_s = result.get("wall_s", 0) - 1.0 - concurrency / 500
            result["loop_busy"] = round(loop_s / loaded_s, 3) if loaded_s > 0 else None
            result["threads_cpu_s"] = sorted(
                ((f"{name} ({tid})", round((ticks - threads_before.get(tid, (name, 0))[1]) / TICKS, 3))
                 for tid, (name, ticks) in after.items()),
                key=lambda item: -item[1],
            )[:6]  # fmt: skip
        if "server_cpu_s" in result and result["streams"]:
            # The server's CPU is read around the whole loadgen run, warm-up included: per stream
            # of the whole run (before 2026-12-03 evening: per measured stream, which counted the
            # warm-up's CPU and not its streams, +20 % at 50 streams).
            streams = result.get("all_streams") or result["streams"]
            result["cpu_ms_per_stream"] = round(result["server_cpu_s"] * 1000 / streams, 3)
            result["cpu_ms_per_measured_stream"] = round(result["server_cpu_s"] * 1000 / result["streams"], 3)
        say(
            f"{target.name:8} streams x{concurrency:4}: {result['streams_per_s']:7.1f} streams/s  "
            f"TTFT p50 {result['ttft_ms']['p50'] or 0:.2f} p99 {result['ttft_ms']['p99'] or 0:.2f} ms  "
            f"total p50 {result['total_ms']['p50'] or 0:.1f} ms  errors {result['errors']}  "
            f"incomplete {result['incomplete']}"
            + (
                f"  cpu/stream {result.get('cpu_ms_per_stream')} ms  loop busy {result.get('loop_busy')}"
                if target.pid
                else ""
            )
        )
        return result

    def grpc(self, target: Target, concurrency: int, duration: float, client: str = "sync") -> dict[str, Any]:
        """`loadgen.py grpc` with grpc's blocking client (`client="aio"`: grpc.aio's)."""
        argv = ["grpc", "--target", target.grpc, "--key", target.key, "--concurrency", str(concurrency),
                "--duration", str(duration), "--warmup", str(self.d.warmup), "--procs", "1",
                "--client", client]  # fmt: skip
        result = self.loadgen(target, argv, duration + self.d.warmup + 120)
        if "server_cpu_s" in result and result["calls"]:
            result["cpu_ms_per_request"] = round(result["server_cpu_s"] * 1000 / result["calls"], 3)
        say(
            f"{target.name:8} gRPC {concurrency:3} conc ({client}): {result['calls_per_s']:8.1f} calls/s  "
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
        """wrk at 16 connections for `minutes`, in slices (30 s, or a tenth of a short soak, at
        least 5 s); RSS and throughput per slice, then RSS's peak, its growth from the first slice
        to the last and its drift (least-squares slope, MB per minute)."""
        slices: list[dict[str, Any]] = []
        deadline = time.monotonic() + minutes * 60
        slice_s = min(30.0, max(5.0, minutes * 6))
        while time.monotonic() < deadline - 1:
            length = min(slice_s, deadline - time.monotonic())
            result = self.wrk(target, 16, max(1.0, length), warm=False)
            slices.append({
                "t_min": round((time.monotonic() - (deadline - minutes * 60)) / 60, 2),
                "rps": result["rps"], "errors": result["errors"], "p99_ms": result["latency_ms"]["p99"],
                "rss_mb": round(rss_mb(target.pid or 0), 1), "peak_rss_mb": result.get("server_peak_rss_mb"),
                "requests": result.get("requests", 0),
            })  # fmt: skip
        first, last = slices[0]["rss_mb"], slices[-1]["rss_mb"]
        return {
            "minutes": minutes, "seconds": round(minutes * 60, 1), "slices": slices,
            "rss_first_mb": first, "rss_last_mb": last, "rss_growth_mb": round(last - first, 1),
            "rss_slope_mb_per_min": slope([(s["t_min"], s["rss_mb"]) for s in slices]),
            "peak_rss_mb": max(s["peak_rss_mb"] or s["rss_mb"] for s in slices),
            "requests": sum(s["requests"] or 0 for s in slices), "errors": sum(s["errors"] for s in slices),
        }  # fmt: skip


def slope(points: list[tuple[float, float]]) -> float | None:
    """The least-squares slope of (x, y) points: RSS drift in MB per minute."""
    if len(points) < 2:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    var = sum((x - mx) ** 2 for x, _ in points)
    return None if var == 0 else round(sum((x - mx) * (y - my) for x, y in points) / var, 3)


def soak_minutes(text: str) -> float:
    """`--soak`: minutes (`10`, `0.5`), or with a unit: `600s`, `10m`."""
    text = text.strip().lower()
    if text.endswith("s"):
        return float(text[:-1]) / 60
    return float(text.removesuffix("m"))
