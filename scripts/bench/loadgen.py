"""Load clients for the benchmark: SSE streams over raw HTTP/1.1 and gRPC unary calls.

Both run closed loops (every virtual user starts its next call when the last one ends) in several
processes, so the client is not the bottleneck, and print one JSON summary on stdout.

    loadgen.py stream --url http://127.0.0.1:8000/v1/developer/chat/stream --body-file b.json \
        --key KEY --concurrency 50 --duration 10 --expect-chunks 20
    loadgen.py grpc --target 127.0.0.1:50051 --key KEY --concurrency 1 --duration 10 [--client aio]

The stream client is a minimal asyncio HTTP/1.1 client (keep-alive, chunked or length-framed
bodies) rather than httpx, so that it costs far less CPU per event than the servers it measures.
Time to first token (TTFT) is measured from writing the request to the first SSE event carrying
answer text; total time to the end of the response body.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any
from urllib.parse import urlsplit

# An SSE event carrying answer text, in our own format ({"type":"content","content":"tok1 ",...})
# and in OpenAI's ({"choices":[{"delta":{"content":"tok1 "}}]}, also as LiteLLM spaces it).
CONTENT = re.compile(rb'"content":\s*"[^"]')


def percentiles(values: list[float]) -> dict[str, float | None]:
    """p50/p90/p99/max of `values` (nearest rank), None when there are none."""
    if not values:
        return {"p50": None, "p90": None, "p99": None, "max": None, "mean": None}
    ordered = sorted(values)

    def rank(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]

    return {
        "p50": rank(50),
        "p90": rank(90),
        "p99": rank(99),
        "max": ordered[-1],
        "mean": statistics.fmean(ordered),
    }


# --- SSE streams over HTTP/1.1 ------------------------------------------------------------------


class HTTPConnection:
    """One keep-alive HTTP/1.1 connection that POSTs a fixed request and reads SSE events."""

    def __init__(self, host: str, port: int, request: bytes) -> None:
        self.host, self.port, self.request = host, port, request
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=1 << 20)
        sock = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def stream(self) -> tuple[int, float | None, float, int]:
        """Send the request once: (status, TTFT s or None, total s, content events seen)."""
        if self.writer is None:
            await self.connect()
        assert self.reader is not None and self.writer is not None
        reader = self.reader
        started = time.perf_counter()
        self.writer.write(self.request)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        headers = head.lower()
        first: float | None = None
        events = 0
        pending = b""

        def feed(data: bytes) -> None:
            nonlocal pending, first, events
            pending += data
            while True:
                cut = pending.find(b"\n\n")
                if cut < 0:
                    return
                event, pending = pending[:cut], pending[cut + 2 :]
                if CONTENT.search(event):
                    events += 1
                    if first is None:
                        first = time.perf_counter()

        if b"transfer-encoding: chunked" in headers:
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    break
                feed((await reader.readexactly(size + 2))[:-2])
        else:
            match = re.search(rb"content-length: *(\d+)", headers)
            if match:
                feed(await reader.readexactly(int(match.group(1))))
            else:
                feed(await reader.read())
                self.close()
        if b"connection: close" in headers:
            self.close()
        ended = time.perf_counter()
        return status, None if first is None else first - started, ended - started, events


def _build_request(url: str, body: bytes, key: str) -> tuple[str, int, bytes]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    lines = [
        f"POST {parts.path or '/'} HTTP/1.1",
        f"Host: {host}:{port}",
        "Content-Type: application/json",
        "Accept: text/event-stream",
        f"Content-Length: {len(body)}",
    ]
    if key:
        lines.append(f"Authorization: Bearer {key}")
    return host, port, ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _stream_worker(args: dict[str, Any]) -> dict[str, Any]:
    host, port, request = _build_request(args["url"], args["body"], args["key"])
    users = [HTTPConnection(host, port, request) for _ in range(args["users"])]
    # Connect everyone first (in batches, not to overflow accept queues), then start together.
    for i in range(0, len(users), 100):
        await asyncio.gather(*(u.connect() for u in users[i : i + 100]))
    await asyncio.sleep(max(0.0, args["start_at"] - time.time()))
    measure_from = time.perf_counter() + args["warmup"]
    stop_at = measure_from + args["duration"]
    ttft: list[float] = []
    total: list[float] = []
    # `all_streams`: every stream read to its end, warm-up included: the server's CPU is read
    # around the whole run, so CPU per stream divides by these (`streams`: the measured window's).
    result = {"streams": 0, "all_streams": 0, "errors": 0, "incomplete": 0, "error_samples": []}

    async def user(conn: HTTPConnection) -> None:
        while time.perf_counter() < stop_at:
            began = time.perf_counter()
            try:
                status, first, whole, events = await asyncio.wait_for(conn.stream(), args["timeout"])
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                conn.close()
                if began >= measure_from:
                    result["errors"] += 1
                    if len(result["error_samples"]) < 5:
                        result["error_samples"].append(repr(exc))
                continue
            result["all_streams"] += 1
            if began < measure_from:
                continue
            result["streams"] += 1
            if status != 200:
                result["errors"] += 1
                if len(result["error_samples"]) < 5:
                    result["error_samples"].append(f"HTTP {status}")
                continue
            if events != args["expect_chunks"]:
                result["incomplete"] += 1
            if first is not None:
                ttft.append(first * 1000)
            total.append(whole * 1000)

    await asyncio.gather(*(user(u) for u in users))
    for u in users:
        u.close()
    return {**result, "ttft_ms": ttft, "total_ms": total}


# --- gRPC unary -----------------------------------------------------------------------------------


async def _grpc_worker(args: dict[str, Any]) -> dict[str, Any]:
    import grpc

    from aihub.v1 import chat_service_pb2 as chat
    from aihub.v1 import chat_service_pb2_grpc as chat_grpc

    latencies: list[float] = []
    result: dict[str, Any] = {"calls": 0, "errors": 0, "error_samples": []}
    request = chat.ChatRequest(message=args["message"], model=args["model"], service=args["service"])
    request.max_tokens = 50
    metadata = (("authorization", f"Bearer {args['key']}"),)
    async with grpc.aio.insecure_channel(args["target"]) as channel:
        await channel.channel_ready()
        stub = chat_grpc.ChatServiceStub(channel)
        await asyncio.sleep(max(0.0, args["start_at"] - time.time()))
        measure_from = time.perf_counter() + args["warmup"]
        stop_at = measure_from + args["duration"]

        async def user() -> None:
            while time.perf_counter() < stop_at:
                began = time.perf_counter()
                try:
                    await stub.Chat(request, metadata=metadata, timeout=args["timeout"])
                except grpc.aio.AioRpcError as exc:
                    if began >= measure_from:
                        result["errors"] += 1
                        if len(result["error_samples"]) < 5:
                            result["error_samples"].append(f"{exc.code().name}: {exc.details()}")
                    continue
                if began >= measure_from:
                    result["calls"] += 1
                    latencies.append((time.perf_counter() - began) * 1000)

        await asyncio.gather(*(user() for _ in range(args["users"])))
    return {**result, "latency_ms": latencies}


# --- process fan-out ------------------------------------------------------------------------------


def _grpc_sync_worker(args: dict[str, Any]) -> dict[str, Any]:
    """The same closed loop with grpc's blocking client, one thread per user on one channel: the
    call waits on its completion queue in the calling thread, where grpc.aio's client hands every
    completion from a poller thread to the event loop through a socket (about 1 ms of client CPU
    per call against 0.7, and threads that compete with the server's on a 2-core machine)."""
    import threading

    import grpc

    from aihub.v1 import chat_service_pb2 as chat
    from aihub.v1 import chat_service_pb2_grpc as chat_grpc

    latencies: list[float] = []
    result: dict[str, Any] = {"calls": 0, "errors": 0, "error_samples": []}
    request = chat.ChatRequest(message=args["message"], model=args["model"], service=args["service"])
    request.max_tokens = 50
    metadata = (("authorization", f"Bearer {args['key']}"),)
    with grpc.insecure_channel(args["target"]) as channel:
        grpc.channel_ready_future(channel).result(timeout=30)
        stub = chat_grpc.ChatServiceStub(channel)
        time.sleep(max(0.0, args["start_at"] - time.time()))
        measure_from = time.perf_counter() + args["warmup"]
        stop_at = measure_from + args["duration"]
        lock = threading.Lock()

        def user() -> None:
            while time.perf_counter() < stop_at:
                began = time.perf_counter()
                try:
                    stub.Chat(request, metadata=metadata, timeout=args["timeout"])
                except grpc.RpcError as exc:
                    if began >= measure_from:
                        with lock:
                            result["errors"] += 1
                            if len(result["error_samples"]) < 5:
                                result["error_samples"].append(f"{exc.code().name}: {exc.details()}")  # type: ignore[attr-defined]
                    continue
                if began >= measure_from:
                    latencies.append((time.perf_counter() - began) * 1000)  # list.append is atomic

        users = [threading.Thread(target=user) for _ in range(args["users"])]
        for thread in users:
            thread.start()
        for thread in users:
            thread.join()
    result["calls"] = len(latencies)
    return {**result, "latency_ms": latencies}


def _run_worker(args: dict[str, Any]) -> dict[str, Any]:
    if args["mode"] == "grpc" and args["client"] == "sync":
        return _grpc_sync_worker(args)
    worker = _stream_worker if args["mode"] == "stream" else _grpc_worker
    return asyncio.run(worker(args))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=["stream", "grpc"])
    parser.add_argument("--url", help="stream: the URL to POST")
    parser.add_argument("--body-file", help="stream: the JSON body")
    parser.add_argument("--target", help="grpc: HOST:PORT of the core")
    parser.add_argument("--model", default="fake-model")
    parser.add_argument("--service", default="bench")
    parser.add_argument("--message", default="Hello from the benchmark")
    parser.add_argument("--key", default="")
    parser.add_argument("--concurrency", type=int, default=1, help="virtual users in all")
    parser.add_argument("--procs", type=int, default=0, help="client processes (default: nproc, <= users)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds run before measuring")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per call")
    parser.add_argument(
        "--client", choices=["sync", "aio"], default="sync",
        help="grpc: the blocking client (threads; default) or grpc.aio's (one event loop)",
    )  # fmt: skip
    parser.add_argument("--expect-chunks", type=int, default=20, help="stream: content events per stream")
    ns = parser.parse_args()

    procs = ns.procs or os.cpu_count() or 1
    procs = max(1, min(procs, ns.concurrency))
    body = open(ns.body_file, "rb").read() if ns.body_file else b""  # noqa: SIM115
    start_at = time.time() + 1.0 + ns.concurrency / 500  # time for every process to connect
    shares = [ns.concurrency // procs + (1 if i < ns.concurrency % procs else 0) for i in range(procs)]
    jobs = [
        {
            "mode": ns.mode, "url": ns.url, "body": body, "key": ns.key, "target": ns.target,
            "model": ns.model, "service": ns.service, "message": ns.message, "users": share,
            "start_at": start_at, "warmup": ns.warmup, "duration": ns.duration,
            "timeout": ns.timeout, "expect_chunks": ns.expect_chunks, "client": ns.client,
        }
        for share in shares
    ]  # fmt: skip
    cpu_before = os.times()
    if procs == 1:
        parts = [_run_worker(jobs[0])]
    else:
        with ProcessPoolExecutor(procs) as pool:
            parts = list(pool.map(_run_worker, jobs))
    cpu_after = os.times()
    client_cpu = (cpu_after.children_user + cpu_after.children_system + cpu_after.user + cpu_after.system) - (
        cpu_before.children_user + cpu_before.children_system + cpu_before.user + cpu_before.system
    )

    summary: dict[str, Any] = {"mode": ns.mode, "concurrency": ns.concurrency, "procs": procs}
    if ns.mode == "grpc":
        summary["client"] = ns.client
    summary["duration_s"] = ns.duration
    summary["client_cpu_s"] = round(client_cpu, 3)
    summary["errors"] = sum(p["errors"] for p in parts)
    summary["error_samples"] = [s for p in parts for s in p["error_samples"]][:5]
    if ns.mode == "stream":
        summary["streams"] = sum(p["streams"] for p in parts)
        summary["all_streams"] = sum(p["all_streams"] for p in parts)
        summary["incomplete"] = sum(p["incomplete"] for p in parts)
        summary["streams_per_s"] = summary["streams"] / ns.duration
        summary["ttft_ms"] = percentiles([v for p in parts for v in p["ttft_ms"]])
        summary["total_ms"] = percentiles([v for p in parts for v in p["total_ms"]])
    else:
        summary["calls"] = sum(p["calls"] for p in parts)
        summary["calls_per_s"] = summary["calls"] / ns.duration
        summary["latency_ms"] = percentiles([v for p in parts for v in p["latency_ms"]])
    json.dump(summary, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
