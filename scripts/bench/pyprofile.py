"""Where a REST chat's Python time goes, by function: the gateway under cProfile, counting only
--requests sequential requests on one connection after 30 of warm-up (as instructions.py does).

    .venv/bin/python scripts/bench/pyprofile.py [--requests 200] [--top 40] [--out FILE.prof]
                               [--route developer|openai|stream|openai-stream]

Prints the top functions by own time and their calls per request; calls per request do not
drift with the machine's load, so two checkouts' tables compare function by function. cProfile
sees the event loop's thread only (the SQLite store's executor thread is not in the profile), and
its own overhead inflates small, often-called functions: rank with it, measure with instructions.py.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pstats
import runpy
import signal
import sys
import tempfile
import time
from pathlib import Path


def hook() -> None:
    """In the gateway's process: run `aihub serve` with a profiler SIGUSR1 starts and SIGUSR2
    stops (writing its stats to $AIHUB_PYPROFILE_OUT)."""
    import cProfile

    profiler = cProfile.Profile()
    out = os.environ["AIHUB_PYPROFILE_OUT"]

    def stop(*_: object) -> None:
        profiler.disable()
        profiler.dump_stats(out)

    signal.signal(signal.SIGUSR1, lambda *_: profiler.enable())
    signal.signal(signal.SIGUSR2, stop)
    sys.argv = sys.argv[2:]
    runpy.run_path(sys.argv[0], run_name="__main__")


def main() -> None:
    from percall import rest_caller
    from processes import PROCS, VENV_BIN, enable_h2_prototype, on_signal
    from systems import Systems

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=200)
    routes = ["developer", "openai", "stream", "openai-stream", "grpc", "h2"]
    parser.add_argument("--route", choices=routes, default="developer")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, on_signal)
    work = Path(tempfile.mkdtemp(prefix="aihub-pyprofile-"))
    out = args.out or work / "gateway.prof"
    os.environ["AIHUB_PYPROFILE_OUT"] = str(out.resolve())

    class Profiled(Systems):
        def __init__(self) -> None:
            self.args = argparse.Namespace(chunks=20, chunk_ms=10, workers=1, postgres=None, replicas=1)
            self.work = work
            self.results = {}
            self.gateway_runner = (str(VENV_BIN / "python"), __file__, "--hook")
            self.gateway_start_seconds = 60

    systems = Profiled()
    if args.route == "h2":  # the grpclib prototype (issue 16) beside the grpc.aio port
        h2_port = enable_h2_prototype()
    try:
        gateway = systems.start_gateway(systems.start_upstream())
        if args.route in ("openai", "openai-stream"):
            gateway = systems.openai_route(gateway)
        if args.route == "openai-stream":  # the same body with "stream": true, read to its end
            streamed = work / "openai-stream-body.json"
            streamed.write_text(json.dumps({**json.loads(gateway.rest_body.read_text()), "stream": True}))
            gateway.rest_body = streamed
        assert gateway.pid is not None
        if args.route == "stream":  # streams of 20 chunks, read to their end
            gateway.rest_url = gateway.stream_url
        path = gateway.rest_url.removeprefix("http://").split("/", 1)[1]
        one = rest_caller(gateway)
        if args.route in ("grpc", "h2"):
            from instructions import grpc_caller

            target = gateway.grpc if args.route == "grpc" else f"127.0.0.1:{h2_port}"
            one = grpc_caller(target, json.loads(gateway.rest_body.read_bytes()), gateway.key)

        for _ in range(30):
            one()
        os.kill(gateway.pid, signal.SIGUSR1)
        time.sleep(0.5)
        for _ in range(args.requests):
            one()
        os.kill(gateway.pid, signal.SIGUSR2)
        for _ in range(100):
            if out.exists() and out.stat().st_size > 0:
                break
            time.sleep(0.1)
        time.sleep(0.5)
    finally:
        PROCS.stop_all()
    stats = pstats.Stats(str(out))
    total_calls = stats.total_calls  # type: ignore[attr-defined]
    print(f"route /{path}; {args.requests} requests; profile {out}")
    print(f"function calls per request: {total_calls / args.requests:.0f}")
    text = io.StringIO()
    stats.stream = text  # type: ignore[attr-defined]
    stats.sort_stats("tottime").print_stats(args.top)
    print(text.getvalue())


if __name__ == "__main__":
    if sys.argv[1:2] == ["--hook"]:
        hook()
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        main()
