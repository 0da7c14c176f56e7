"""The AI Hub benchmark: the gateway beside the upstream-direct baseline (and LiteLLM), in one run.

Run it through `scripts/bench/run`, which installs nginx (with Lua), wrk and matplotlib first.
It starts a fake OpenAI-compatible upstream (nginx + Lua), then `aihub serve` on a fresh database
with that upstream as an operator service and a user on an operator plan with no limits, and
measures, each phase against the upstream directly and through the gateway:

  rest-1 / rest-16   POST /v1/developer/chat (wrk, Lua POST body) at 1 and 16 connections, and
                     the OpenAI-compatible POST /v1/chat/completions beside it (`openai`)
  sweep              the same at 2..64 connections, for the latency-against-load chart
  grpc-1             ChatService/Chat at one connection (grpc's blocking client; then grpc.aio's)
  stream-50/-1000    POST /v1/developer/chat/stream: TTFT and total time at 50 and 1,000
                     concurrent streams of N chunks M ms apart; every chunk must arrive
  soak               (--soak 10 or 600s) wrk at 16 connections; RSS per slice, peak and drift

Gateway CPU per request comes from /proc/PID/stat (utime+stime of the gateway's processes) before
and after each phase; peak RSS is the sum of VmRSS over the gateway's processes, sampled every
100 ms. Every process this starts is stopped at the end, also on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import datetime as dt
import gzip
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# The modules beside this script (its directory is sys.path[0] when run as a script).
from capacity import per_request, snapshot
from cluster import DEFAULT_POSTGRES
from measure import RssSampler, rss_mb, tree
from phases import Durations, Phases, soak_minutes
from processes import PROCS, ROOT, VENV_BIN, on_signal, say
from systems import Systems, Target

SWEEP = [1, 2, 4, 8, 16, 32, 64]


@dataclass
class Bench(Systems, Phases):
    """One run: the systems under test (`Systems`), the load phases (`Phases`) and their order."""

    args: argparse.Namespace
    work: Path
    d: Durations
    sampler: RssSampler = field(default_factory=RssSampler)
    results: dict[str, Any] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)

    def capacity(self, hub: Target, seconds: float) -> dict[str, Any]:
        """REST at 16 connections with the shared services' counters read around it: what one
        request costs Redis and PostgreSQL (capacity.py)."""
        pids = set(tree(hub.pid or 0))
        admin, database = self.args.postgres, self.shared["database"]
        pg_port = urlsplit(admin).port or 5432

        def snap() -> dict[str, Any]:
            time.sleep(1.0)  # the statistics collector's flush (PGSTAT_MIN_INTERVAL is 1 s)
            return snapshot(self.shared.get("redis_port"), admin, database, pids, pg_port)

        before = snap()
        load = self.wrk(hub, 16, seconds, warm=False)
        figures = per_request(before, snap(), load["requests"])
        cpu = load.get("cpu_ms_per_request") or 0.0
        replicas = round(cpu - figures["redis_cpu_ms"], 3)
        figures.update(rps=load["rps"], gateway_cpu_ms=cpu, replicas_cpu_ms=replicas)
        say(f"capacity, per request: {json.dumps(figures)}")
        return figures

    def stream_phases(self, targets: list[Target]) -> dict[str, dict[str, Any]]:
        """The stream phases (50 and 1,000 streams, or `--streams`' concurrencies), each target
        in turn."""
        d = self.d
        plan = [(c, d.stream if c <= 100 else d.stream_big) for c in self.args.streams]
        stream: dict[str, dict[str, Any]] = {t.name: {} for t in targets}
        for conc, seconds in plan:
            for t in targets:
                stream[t.name][str(conc)] = self.streams(t, conc, self.args.stream_seconds or seconds)
        return stream

    def run(self) -> dict[str, Any]:
        a, d = self.args, self.d
        self.sampler.start()
        r = self.results
        r.update(
            date=dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            command=" ".join(["scripts/bench/run", *sys.argv[1:]]),
            machine=machine(),
            params={"chunks": a.chunks, "chunk_ms": a.chunk_ms, "durations": d.__dict__,
                    "quick": a.quick, "client_procs": a.client_procs, "workers": a.workers,
                    "replicas": a.replicas, "store": "postgresql" if a.postgres else "sqlite"},
        )  # fmt: skip
        direct = self.start_upstream()
        self.sampler.watch("direct", direct.pid or 0)
        hub = self.start_gateway(direct)
        self.sampler.watch("aihub", hub.pid or 0)
        targets = [direct, hub]
        if a.only == "profile":
            r["profile"] = self.profile(hub)
            return r
        if a.only == "stream":  # the stream phases alone (a quick A/B), with the gateway's RSS
            r["idle_rss_mb"] = {hub.name: round(rss_mb(hub.pid or 0), 1)}
            r["stream"] = self.stream_phases(targets)
            r["rss_after_mb"] = {hub.name: round(rss_mb(hub.pid or 0), 1)}
            r["peak_rss_mb"] = {name: round(mb, 1) for name, mb in self.sampler.peak.items()}
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

        # The gateway's OpenAI-compatible route too: the same upstream, key and prompt.
        rest_targets = [*targets, self.openai_route(hub)]
        rest: dict[str, dict[str, Any]] = {t.name: {} for t in rest_targets}
        for conns in (1, 16):
            for t in rest_targets:
                rest[t.name][str(conns)] = self.wrk(t, conns, d.rest)
        r["rest"] = rest

        # grpc's blocking client (the figure), then grpc.aio's client (for the record: its own
        # poller thread costs the client more CPU and competes with the server on 2 cores).
        r["grpc"] = {"1": self.grpc(hub, 1, d.grpc), "1-aio": self.grpc(hub, 1, d.grpc, "aio")}
        if a.postgres:
            r["capacity"] = self.capacity(hub, d.rest)
        if a.only == "rest":
            return r

        r["stream"] = self.stream_phases(targets)

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
            say(f"soak: {a.soak * 60:g} s at 16 connections")
            r["soak"] = self.soak(hub, a.soak)

        r["peak_rss_mb"] = {name: round(mb, 1) for name, mb in self.sampler.peak.items()}
        r["rss_series"] = {name: [(round(t, 1), round(mb, 1)) for t, mb in s]
                           for name, s in self.sampler.series.items()}  # fmt: skip
        return r


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
           "('aihub','grpcio','protobuf','starlette','uvicorn','uvloop','httptools','aiohttp')))"  # fmt: skip
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
        "--soak",
        type=soak_minutes,
        default=0,
        metavar="DURATION",
        help="add a soak at 16 connections: minutes (10), or seconds with a unit (600s)",
    )
    parser.add_argument(
        "--with-litellm", action="store_true", help="add LiteLLM proxy (2 workers) to the run"
    )
    parser.add_argument("--no-profile", dest="profile", action="store_false", help="skip the py-spy profile")
    parser.add_argument(
        "--only",
        choices=["profile", "soak", "rest", "stream"],
        help="only the profile, the soak, the REST and gRPC phases, or the stream phases (a quick "
        "A/B of one change)",
    )
    parser.add_argument(
        "--streams",
        type=lambda text: [int(c) for c in text.split(",")],
        default=[50, 1000],
        metavar="N[,N...]",
        help="the stream phases' concurrencies (default 50,1000)",
    )
    parser.add_argument(
        "--stream-seconds", type=float, default=0, help="seconds per stream phase (default: the phase's own)"
    )
    parser.add_argument("--no-sweep", action="store_true", help="skip the connections sweep (the chart)")
    parser.add_argument(
        "--workers", type=int, default=1, help="aihub serve --workers N (N > 1 starts a private Redis)"
    )
    parser.add_argument(
        "--postgres",
        nargs="?",
        const=os.environ.get("AIHUB_TEST_POSTGRES_URL") or DEFAULT_POSTGRES,
        metavar="URL",
        help="the store on PostgreSQL: a database of the run's own on this server (default "
        f"AIHUB_TEST_POSTGRES_URL or {DEFAULT_POSTGRES}), dropped at exit; adds the capacity phase",
    )
    parser.add_argument(
        "--replicas", type=int, default=1, help="N aihub serve behind nginx (docs/deploy.md), one Redis"
    )
    parser.add_argument("--chunks", type=int, default=20, help="stream content chunks (default 20)")
    parser.add_argument("--chunk-ms", type=int, default=10, help="ms between stream chunks (default 10)")
    parser.add_argument(
        "--client-procs", type=int, default=os.cpu_count() or 2, help="stream client processes"
    )
    parser.add_argument("--out", default=str(ROOT / ".bench" / "results"), help="results directory")
    parser.add_argument("--keep", action="store_true", help="keep the temporary work directory (logs, db)")
    args = parser.parse_args()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
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
    if args.only == "stream":  # the phases' lines above are the report
        (out / "stream.json").write_text(json.dumps(results, indent=1) + "\n")
        keep = ("idle_rss_mb", "rss_after_mb", "peak_rss_mb")
        print(json.dumps({k: results[k] for k in keep}))
        say(f"results in {out}/stream.json")
        return 0
    if args.only == "rest":  # the phases' lines above are the report
        (out / "rest.json").write_text(json.dumps(results, indent=1) + "\n")
        say(f"results in {out}/rest.json")
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
