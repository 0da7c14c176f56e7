"""Instructions the gateway executes per REST chat, counted by callgrind: a figure that does not
drift with the machine's load (wall-clock and CPU-time figures here drift by +-20 % hour to hour),
for an A/B of a change that is too small for the timed phases to see.

    .venv/bin/python scripts/bench/instructions.py [--requests 200]

Starts the fake upstream and `aihub serve` as `scripts/bench/run` does, the gateway under
`valgrind --tool=callgrind` with instrumentation off; sends 30 warm-up requests, turns counting on
for --requests sequential requests on one connection, and prints the instructions per request
(uvicorn, the shim, the core, the ledger write: everything in the gateway's process). About two
minutes. Needs valgrind (Debian: valgrind) and what scripts/bench/run installs.
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
from pathlib import Path

from processes import PROCS, VENV_BIN, on_signal
from systems import Systems


class Counted(Systems):
    def __init__(self, work: Path, out: Path) -> None:
        self.args = argparse.Namespace(chunks=20, chunk_ms=10, workers=1, postgres=None, replicas=1)
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, on_signal)
    work = Path(tempfile.mkdtemp(prefix="aihub-instructions-"))
    systems = Counted(work, work / "callgrind.out")
    try:
        gateway = systems.start_gateway(systems.start_upstream())
        assert gateway.pid is not None
        url = gateway.rest_url.removeprefix("http://")
        host_port, path = url.split("/", 1)
        host, port = host_port.split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        body = gateway.rest_body.read_bytes()
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {gateway.key}"}

        def one() -> None:
            conn.request("POST", "/" + path, body, headers)
            answer = conn.getresponse()
            data = answer.read()
            if answer.status != 200:
                raise RuntimeError(f"{answer.status}: {data[:300]!r}")

        for _ in range(30):
            one()
        control = ["callgrind_control"]
        subprocess.run([*control, "-i", "on", str(gateway.pid)], check=True, capture_output=True)
        for _ in range(args.requests):
            one()
        subprocess.run([*control, "-i", "off", str(gateway.pid)], check=True, capture_output=True)
        subprocess.run([*control, "-d", str(gateway.pid)], check=True, capture_output=True)
        time.sleep(1)
        per_request = totals(work) / args.requests
        print(
            json.dumps(
                {
                    "route": "/v1/developer/chat",
                    "requests": args.requests,
                    "instructions_per_request": round(per_request),
                }
            )
        )
    finally:
        PROCS.stop_all()


if __name__ == "__main__":
    sys.exit(main())
