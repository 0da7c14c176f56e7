"""grpc.aio's server and the grpclib one (issue 16) on the same gateway, alternated: streams and
many concurrent calls.

    .venv/bin/python scripts/bench/grpc_servers.py [--rounds 2] [--streams 100] [--concurrent 1000]
                                                   [--concurrent-streams 200]

Starts the fake upstream (20 chunks, 10 ms apart) and `aihub serve` with the grpclib prototype on
a second port (AIHUB_BENCH_H2_PORT), then for each server in turn: `--streams` sequential 20-chunk
StreamChat calls on one channel (gateway CPU ms per stream, wall ms per stream), and
`--concurrent` unary Chat calls started at once on one grpc.aio channel (wall ms for all of them,
gateway CPU ms per call, failures), then `--concurrent-streams` StreamChat calls at once (the same,
per stream). The clients are grpc's own (grpc.aio).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import grpc
from percall import Plain, delta, threads
from processes import PROCS, enable_h2_prototype, on_signal

from aihub.v1 import chat_service_pb2 as chat
from aihub.v1 import chat_service_pb2_grpc as chat_grpc


async def _streams(stub: Any, body: dict[str, Any], metadata: Any, n: int) -> int:
    request = chat.StreamChatRequest(message=str(body["message"]), model=str(body["model"]),
                                     service=str(body["service"]))  # fmt: skip
    events = 0
    for _ in range(n):
        async for _event in stub.StreamChat(request, metadata=metadata, timeout=120):
            events += 1
    return events


async def _concurrent_streams(stub: Any, body: dict[str, Any], metadata: Any, n: int) -> int:
    """n StreamChat calls at once, each read to its end; the number that failed."""
    request = chat.StreamChatRequest(message=str(body["message"]), model=str(body["model"]),
                                     service=str(body["service"]))  # fmt: skip

    async def one() -> None:
        async for _event in stub.StreamChat(request, metadata=metadata, timeout=120):
            pass

    outcomes = await asyncio.gather(*(one() for _ in range(n)), return_exceptions=True)
    return sum(1 for o in outcomes if isinstance(o, BaseException))


async def _concurrent(stub: Any, body: dict[str, Any], metadata: Any, n: int) -> int:
    request = chat.ChatRequest(message=str(body["message"]), model=str(body["model"]),
                               service=str(body["service"]))  # fmt: skip
    request.max_tokens = 50
    outcomes = await asyncio.gather(
        *(stub.Chat(request, metadata=metadata, timeout=120) for _ in range(n)), return_exceptions=True
    )
    return sum(1 for o in outcomes if isinstance(o, BaseException))


def measure(
    pid: int, target: str, body: dict[str, Any], key: str, args: argparse.Namespace
) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        options = [("grpc.max_concurrent_streams", 100000)]
        async with grpc.aio.insecure_channel(target, options=options) as channel:
            stub = chat_grpc.ChatServiceStub(channel)
            metadata = (("authorization", f"Bearer {key}"),)
            await _streams(stub, body, metadata, 5)
            before, began = threads(pid), time.perf_counter()
            events = await _streams(stub, body, metadata, args.streams)
            wall = (time.perf_counter() - began) * 1000 / args.streams
            streams = {**delta(before, threads(pid), args.streams), "wall_ms": round(wall, 2),
                       "events_per_stream": events / args.streams}  # fmt: skip
            await _concurrent(stub, body, metadata, 50)
            before, began = threads(pid), time.perf_counter()
            failed = await _concurrent(stub, body, metadata, args.concurrent)
            wall = (time.perf_counter() - began) * 1000
            many = {**delta(before, threads(pid), args.concurrent), "wall_ms_all": round(wall),
                    "failed": failed}  # fmt: skip
            before, began = threads(pid), time.perf_counter()
            failed = await _concurrent_streams(stub, body, metadata, args.concurrent_streams)
            wall = (time.perf_counter() - began) * 1000
            many_streams = {**delta(before, threads(pid), args.concurrent_streams),
                            "wall_ms_all": round(wall), "failed": failed}  # fmt: skip
            return {"stream": streams, "concurrent": many, "concurrent_streams": many_streams}

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--concurrent", type=int, default=1000)
    parser.add_argument("--concurrent-streams", type=int, default=200)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, on_signal)
    work = Path(tempfile.mkdtemp(prefix="aihub-grpcservers-"))
    h2_port = enable_h2_prototype()
    systems = Plain(work)
    try:
        gateway = systems.start_gateway(systems.start_upstream())
        assert gateway.pid is not None and gateway.key is not None
        body = json.loads(gateway.rest_body.read_bytes())
        targets = {"grpc.aio": gateway.grpc, "grpclib": f"127.0.0.1:{h2_port}"}
        for i in range(args.rounds):
            order = list(targets.items()) if i % 2 == 0 else list(reversed(targets.items()))
            for name, target in order:
                result = measure(gateway.pid, target, body, gateway.key, args)
                print(json.dumps({name: result}), flush=True)
    finally:
        PROCS.stop_all()


if __name__ == "__main__":
    sys.exit(main())
