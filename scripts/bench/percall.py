"""What one call costs the gateway outside the interpreter's instructions: CPU time per thread,
context switches and system calls per call, for the native gRPC route and the REST routes.

    .venv/bin/python scripts/bench/percall.py [--requests 500] [--rounds 3] [--strace] [--perf]
                                              [--routes grpc,grpc-aio,developer,openai]

Starts the fake upstream and `aihub serve` as `scripts/bench/run` does (`GRPC_*` variables in
this environment reach the gateway), then in each round and for each route: 30 warm-up calls,
then --requests sequential calls on one connection (`grpc`: grpc's blocking client; `grpc-aio`:
grpc.aio's client; http.client for REST), reading /proc/PID/task/*/{stat,status} around them.
Prints per call: the gateway's CPU ms by thread, voluntary and involuntary context switches,
the client's own CPU ms and wall ms (for reference only). Rounds alternate the routes, so that a
drift of the machine shows as a spread.

--strace: one more pass per route under `strace -f -c -p PID` (system calls per call by name;
strace slows the calls, so its pass is not in the CPU figures). --perf: one more pass per route
under `perf stat -p PID` (task-clock, context switches, cpu-migrations, page faults per call).
CPU and context switches drift less with the machine's load than latency; callgrind
(instructions.py) counts instructions and nothing else.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from instructions import grpc_caller
from processes import PROCS, enable_h2_prototype, on_signal
from systems import Systems, Target

TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


class Plain(Systems):
    def __init__(self, work: Path) -> None:
        self.args = argparse.Namespace(chunks=20, chunk_ms=10, workers=1, postgres=None, replicas=1)
        self.work = work
        self.results = {}
        self.shared = {}


def threads(pid: int) -> dict[int, dict[str, Any]]:
    """Each thread of `pid`: name, CPU ticks (utime + stime), voluntary/involuntary switches."""
    found: dict[int, dict[str, Any]] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
            status = Path(f"/proc/{pid}/task/{tid}/status").read_text()
            fields = stat.rsplit(")", 1)[1].split()
            switches = dict(re.findall(r"^(\w+_ctxt_switches):\s+(\d+)", status, re.M))
            found[int(tid)] = {
                "name": stat[stat.index("(") + 1 : stat.rindex(")")],
                "ticks": int(fields[11]) + int(fields[12]),
                "vol": int(switches.get("voluntary_ctxt_switches", 0)),
                "invol": int(switches.get("nonvoluntary_ctxt_switches", 0)),
            }
    return found


def delta(before: dict[int, dict[str, Any]], after: dict[int, dict[str, Any]], n: int) -> dict[str, Any]:
    """Per call: CPU ms by thread name (threads of one name summed), and context switches."""
    cpu: dict[str, float] = defaultdict(float)
    vol = invol = 0
    for tid, now in after.items():
        was = before.get(tid, {"ticks": 0, "vol": 0, "invol": 0})
        # Python's threads carry the process's name: the main thread is the event loop.
        name = now["name"] if now["name"] != after[min(after)]["name"] or tid == min(after) else "py-thread"
        cpu[name if tid != min(after) else "main (event loop)"] += (now["ticks"] - was["ticks"]) * TICK_MS / n
        vol += now["vol"] - was["vol"]
        invol += now["invol"] - was["invol"]
    busy = {name: round(ms, 3) for name, ms in sorted(cpu.items(), key=lambda kv: -kv[1]) if ms > 0}
    return {
        "cpu_ms": round(sum(cpu.values()), 3),
        "cpu_ms_by_thread": busy,
        "threads": len(after),
        "voluntary_switches": round(vol / n, 2),
        "involuntary_switches": round(invol / n, 2),
    }


def rest_caller(gateway: Target) -> Callable[[], None]:
    host_port, path = gateway.rest_url.removeprefix("http://").split("/", 1)
    host, port = host_port.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    body = gateway.rest_body.read_bytes()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {gateway.key}"}

    def one() -> None:
        try:
            conn.request("POST", "/" + path, body, headers)
        except OSError:  # the server closed the idle keep-alive connection (between passes)
            conn.close()
            conn.request("POST", "/" + path, body, headers)
        answer = conn.getresponse()
        data = answer.read()
        if answer.status != 200:
            raise RuntimeError(f"{answer.status}: {data[:300]!r}")

    return one


def aio_grpc_caller(target: str, body: dict[str, Any], key: str) -> Callable[[int], None]:
    """n unary `ChatService/Chat` calls in a row on one grpc.aio channel: the client
    `loadgen.py grpc` (the benchmark's gRPC phase) uses, with its own poller thread."""
    import asyncio

    import grpc

    from aihub.v1 import chat_service_pb2 as chat
    from aihub.v1 import chat_service_pb2_grpc as chat_grpc

    loop = asyncio.new_event_loop()
    channel = loop.run_until_complete(_aio_channel(target))
    stub = chat_grpc.ChatServiceStub(channel)
    request = chat.ChatRequest(
        message=str(body["message"]), model=str(body["model"]), service=str(body["service"])
    )
    request.max_tokens = 50
    metadata = (("authorization", f"Bearer {key}"),)

    async def calls(n: int) -> None:
        for _ in range(n):
            await stub.Chat(request, metadata=metadata, timeout=120)

    assert isinstance(channel, grpc.aio.Channel)
    return lambda n: loop.run_until_complete(calls(n))


async def _aio_channel(target: str) -> Any:
    import grpc

    channel = grpc.aio.insecure_channel(target)
    await channel.channel_ready()
    return channel


def in_a_row(call: Callable[[], None]) -> Callable[[int], None]:
    def calls(n: int) -> None:
        for _ in range(n):
            call()

    return calls


def timed(pid: int, calls: Callable[[int], None], n: int) -> dict[str, Any]:
    calls(30)
    before = threads(pid)
    mine = os.times()
    began = time.perf_counter()
    calls(n)
    wall = (time.perf_counter() - began) * 1000 / n
    now = os.times()
    client = (now.user + now.system - mine.user - mine.system) * 1000 / n
    return {**delta(before, threads(pid), n), "wall_ms": round(wall, 3), "client_cpu_ms": round(client, 3)}


def under(tool: list[str], out: Path, calls: Callable[[int], None], n: int) -> str:
    """`n` calls with `tool` (strace -c or perf stat) attached to the gateway; its summary."""
    calls(30)
    proc = subprocess.Popen([*tool, "-o", str(out)], stderr=subprocess.DEVNULL)
    time.sleep(1.5)  # attached to every thread
    calls(n)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    return out.read_text()


def strace_per_call(text: str, n: int) -> dict[str, float]:
    calls: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[0].replace(".", "").isdigit() and parts[-1] != "total":
            count = parts[3]
            if count.isdigit():
                calls[parts[-1]] = round(int(count) / n, 2)
    total = round(sum(calls.values()), 2)
    return {"total": total, **dict(sorted(calls.items(), key=lambda kv: -kv[1]))}


def perf_per_call(text: str, n: int) -> dict[str, float]:
    found: dict[str, float] = {}
    for line in text.splitlines():
        m = re.match(r"\s*([\d,.]+)\s+(?:msec\s+)?([\w-]+)", line)
        if m and not line.strip().startswith("#"):
            with contextlib.suppress(ValueError):
                found[m.group(2)] = round(float(m.group(1).replace(",", "")) / n, 4)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--routes", default="grpc,developer")
    parser.add_argument("--strace", action="store_true")
    parser.add_argument("--perf", action="store_true")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, on_signal)
    work = Path(tempfile.mkdtemp(prefix="aihub-percall-"))
    systems = Plain(work)
    if "h2" in args.routes.split(","):
        h2_port = enable_h2_prototype()
    try:
        gateway = systems.start_gateway(systems.start_upstream())
        pid = gateway.pid
        assert pid is not None
        callers: dict[str, Callable[[int], None]] = {}
        body = json.loads(gateway.rest_body.read_bytes())
        for route in args.routes.split(","):
            if route == "grpc":
                callers[route] = in_a_row(grpc_caller(gateway.grpc, body, gateway.key))
            elif route == "h2":  # the grpclib server of the same gateway, grpc's blocking client
                callers[route] = in_a_row(grpc_caller(f"127.0.0.1:{h2_port}", body, gateway.key))
            elif route == "grpc-aio":
                callers[route] = aio_grpc_caller(gateway.grpc, body, gateway.key)
            elif route == "openai":
                callers[route] = in_a_row(rest_caller(systems.openai_route(gateway)))
            else:
                callers[route] = in_a_row(rest_caller(gateway))
        before = threads(pid)
        time.sleep(3)
        idle = delta(before, threads(pid), 3)
        results: dict[str, Any] = {
            "load_before": os.getloadavg(),
            "idle_cpu_ms_per_s": idle["cpu_ms"],
            "idle_switches_per_s": idle["voluntary_switches"],
            "rounds": [],
        }
        for _ in range(args.rounds):
            results["rounds"].append({r: timed(pid, c, args.requests) for r, c in callers.items()})
            print(json.dumps(results["rounds"][-1]), flush=True)
        for route, call in callers.items():
            if args.strace:
                strace = ["strace", "-f", "-c", "-p", str(pid)]
                text = under(strace, work / f"{route}.strace", call, args.requests)
                results.setdefault("strace", {})[route] = strace_per_call(text, args.requests)
            if args.perf:
                events = "task-clock,context-switches,cpu-migrations,page-faults"
                text = under(["perf", "stat", "-e", events, "-p", str(pid)], work / f"{route}.perf", call,
                             args.requests)  # fmt: skip
                results.setdefault("perf", {})[route] = perf_per_call(text, args.requests)
        results["load_after"] = os.getloadavg()
        print(json.dumps({k: v for k, v in results.items() if k != "rounds"}, indent=1))
    finally:
        PROCS.stop_all()


if __name__ == "__main__":
    sys.exit(main())
