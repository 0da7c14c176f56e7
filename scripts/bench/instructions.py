"""Instructions the gateway executes per REST chat, counted by callgrind: a figure that does not
drift with the machine's load (wall-clock and CPU-time figures here drift by +-20 % hour to hour),
for an A/B of a change that is too small for the timed phases to see.

    .venv/bin/python scripts/bench/instructions.py [--requests 200]
                                                   [--route developer|openai|grpc|stream|openai-stream]

Starts the fake upstream and `aihub serve` as `scripts/bench/run` does, the gateway under
`valgrind --tool=callgrind` with instrumentation off; sends 30 warm-up requests, turns counting on
for --requests sequential requests on one connection (to `/v1/developer/chat`, or with
`--route openai` to `/v1/chat/completions` with the same model, prompt and key; with `--route grpc`
`ChatService/Chat` on the core's own gRPC port, as `loadgen.py grpc` calls it; with `--route
stream` streams of 20 chunks from `/v1/developer/chat/stream`, read to their end, and with
`--route openai-stream` the same from `/v1/chat/completions` with `"stream": true`), and prints
the instructions per request (uvicorn, the shim, the core, the ledger write: everything in the
gateway's process). About two minutes. Needs valgrind (Debian: valgrind) and what scripts/bench/run installs.
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from processes import PROCS, VENV_BIN, enable_h2_prototype, on_signal
from systems import Systems


class Counted(Systems):
    def __init__(self, work: Path, out: Path, chunk_ms: int = 10) -> None:
        self.args = argparse.Namespace(chunks=20, chunk_ms=chunk_ms, workers=1, postgres=None, replicas=1)
        self.work = work
        self.results = {}
        self.gateway_runner = (
            "valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
            str(VENV_BIN / "python"),
        )  # fmt: skip
        self.gateway_start_seconds = 600


def totals(work: Path) -> int:
    """The instructions of every dump (callgrind writes one per `callgrind_control -d`)."""
    total = 0
    for dump in work.glob("callgrind.out*"):
        for line in dump.read_text(errors="replace").splitlines():
            if line.startswith("totals:"):
                total += int(line.split()[1])
    return total


def grpc_caller(target: str, body: dict[str, object], key: str | None) -> Callable[[], None]:
    """One unary `ChatService/Chat` per call, on one channel (the request loadgen.py grpc sends)."""
    import grpc

    from aihub.v1 import chat_service_pb2 as chat
    from aihub.v1 import chat_service_pb2_grpc as chat_grpc

    stub = chat_grpc.ChatServiceStub(grpc.insecure_channel(target))
    request = chat.ChatRequest(
        message=str(body["message"]), model=str(body["model"]), service=str(body["service"])
    )
    request.max_tokens = 50
    metadata = (("authorization", f"Bearer {key}"),)

    def one() -> None:
        stub.Chat(request, metadata=metadata, timeout=120)

    return one


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument(
        "--route",
        choices=["developer", "openai", "grpc", "h2", "stream", "openai-stream"],
        default="developer",
    )
    parser.add_argument(
        "--chunk-ms",
        type=int,
        default=10,
        help="streams: ms between the upstream's chunks. Under valgrind the gateway is ~50x slower, "
        "so at 10 ms its reads coalesce more or less from run to run (+-2 %% in the count); at 50 "
        "every chunk is a read of its own and the count repeats",
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, on_signal)
    work = Path(tempfile.mkdtemp(prefix="aihub-instructions-"))
    systems = Counted(work, work / "callgrind.out", args.chunk_ms)
    if args.route == "h2":  # the grpclib prototype (issue 16) beside the grpc.aio port
        h2_port = enable_h2_prototype()
    try:
        gateway = systems.start_gateway(systems.start_upstream())
        if args.route in ("openai", "openai-stream"):
            gateway = systems.openai_route(gateway)
        assert gateway.pid is not None
        body = gateway.rest_body.read_bytes()
        if args.route == "stream":
            gateway.rest_url = gateway.stream_url
        elif args.route == "openai-stream":
            body = json.dumps({**json.loads(body), "stream": True}).encode()
        url = gateway.rest_url.removeprefix("http://")
        host_port, path = url.split("/", 1)
        host, port = host_port.split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {gateway.key}"}

        def one() -> None:
            conn.request("POST", "/" + path, body, headers)
            answer = conn.getresponse()
            data = answer.read()
            if answer.status != 200:
                raise RuntimeError(f"{answer.status}: {data[:300]!r}")

        call = one
        if args.route == "grpc":
            assert gateway.grpc is not None
            call, path = grpc_caller(gateway.grpc, json.loads(body), gateway.key), "aihub.v1.ChatService/Chat"
        elif args.route == "h2":
            target = f"127.0.0.1:{h2_port}"
            call, path = grpc_caller(target, json.loads(body), gateway.key), "h2 aihub.v1.ChatService/Chat"

        for _ in range(30):
            call()
        control = ["callgrind_control"]
        subprocess.run([*control, "-i", "on", str(gateway.pid)], check=True, capture_output=True)
        for _ in range(args.requests):
            call()
        subprocess.run([*control, "-i", "off", str(gateway.pid)], check=True, capture_output=True)
        subprocess.run([*control, "-d", str(gateway.pid)], check=True, capture_output=True)
        time.sleep(1)
        per_request = totals(work) / args.requests
        print(
            json.dumps(
                {
                    "route": "/" + path,
                    "requests": args.requests,
                    "instructions_per_request": round(per_request),
                }
            )
        )
    finally:
        PROCS.stop_all()


if __name__ == "__main__":
    sys.exit(main())
