"""Where the gateway's CPU goes: a py-spy raw (collapsed stacks) profile, bucketed and ranked.

    profile_summary.py docs/benchmarks/profile.txt[.gz] [REQUESTS CPU_SECONDS]

Samples of idle threads (epoll_wait, an executor waiting for work) and of blocked ones (futex:
the GIL or a lock; fsync) are counted apart; every share below is of the samples on CPU.
Each on-CPU sample is charged to one bucket: the first rule that matches, looking from the innermost
frame outwards (so json.dumps called by the shim is "JSON", sqlite3 called by the store is
"SQLite"). With REQUESTS (the requests served while py-spy sampled) it also prints ms per request,
scaled from the sampled share of the process CPU time given as a third argument (seconds).
A second table gives inclusive time per AI Hub function (the frame and everything it called).
"""

from __future__ import annotations

import gzip
import re
import sys
from collections import Counter
from pathlib import Path

# (bucket, pattern on one frame), most specific first; the innermost matching frame decides.
RULES: list[tuple[str, str]] = [
    ("SQLite (sqlite3, sqlite_utils)", r"sqlite"),
    ("argon2 / JWT", r"argon2|\bjwt\b|/jwt/"),
    ("JSON encode/decode", r"/json/|_json|json\.|orjson"),
    ("protobuf (parse, serialize, json_format)", r"google/protobuf|_message|upb|json_format"),
    ("uvicorn + httptools/h11 (HTTP/1.1 server)", r"uvicorn|/h11/|httptools"),
    ("Starlette (routing, requests, responses)", r"starlette"),
    ("aiohttp (upstream client)", r"aiohttp|multidict|yarl"),
    ("httpx/httpcore (not used by the gateway)", r"httpx|httpcore|anyio|h2/"),
    ("gRPC (grpc.aio library code)", r"/grpc/|cygrpc|grpc_health|grpc_status"),
    ("prometheus_client (metrics)", r"prometheus"),
    ("logging", r"/logging/"),
    ("asyncio event loop, tasks, transports", r"asyncio|selectors|epoll|_run_once|uvloop"),
    ("AI Hub shim code (aihub_http)", r"aihub_http"),
    ("AI Hub core code (aihub_core)", r"aihub_core"),
]
COMPILED = [(name, re.compile(pattern, re.IGNORECASE)) for name, pattern in RULES]
FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


IDLE_LEAF = re.compile(r"^(epoll_wait|epoll_pwait|poll|select|ppoll) \(")
WAIT_LEAF = re.compile(r"^0x[0-9a-f]+ \(libc|^(pthread_cond_\w*wait|sem_\w*wait|__futex\w*) \(")
FSYNC_LEAF = re.compile(r"^(fdatasync|fsync) \(")


def state(frames: list[str]) -> str:
    """idle (waiting for work), blocked (futex: the GIL or a lock; fsync) or cpu."""
    leaf = frames[-1] if frames else ""
    queue_wait = any("concurrent/futures/thread.py:81" in f for f in frames)  # an executor's work_queue.get
    if IDLE_LEAF.match(leaf) or (queue_wait and not any("_WorkItem.run" in f for f in frames)):
        return "idle"
    if FSYNC_LEAF.match(leaf):
        return "blocked: fsync (SQLite commit, in the store thread)"
    if WAIT_LEAF.match(leaf):
        return "blocked: futex (GIL hand-off or a lock)"
    return "cpu"


def thread_of(frames: list[str]) -> str:
    text = ";".join(frames)
    if "concurrent/futures/thread.py" in text:
        return "SQLite store thread (executor)"
    if "run_until_complete" in text or "run_forever" in text:
        return "event loop thread (shim + core)"
    return "other threads (gRPC poller, ...)"


def bucket(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, pattern in COMPILED:
            if pattern.search(frame):
                return name
    return "other (interpreter, stdlib, native)"


def short(frame: str) -> str:
    match = FRAME.match(frame)
    if not match:
        return frame
    path = match.group("file")
    for root in ("aihub_core/", "aihub_http/", "aihub_cli/"):
        if root in path:
            path = root + path.split(root, 1)[1]
    return f"{match.group('func')} ({path})"


def summarize(text: str, requests: int = 0, cpu_s: float = 0.0) -> str:
    buckets: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    states: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0  # samples on CPU: the base of every share below
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        where = state(frames)
        states[where] += count
        if where != "cpu":
            continue
        total += count
        threads[thread_of(frames)] += count
        buckets[bucket(frames)] += count
        for name in {short(f) for f in frames if "aihub_core" in f or "aihub_http" in f}:
            inclusive[name] += count
    if not total:
        return "no samples"
    per_request = cpu_s * 1000 / requests if requests and cpu_s else 0.0

    def table(title: str, counts: Counter[str], limit: int) -> list[str]:
        head = f"| {title} | samples | share |" + (" ms/request |" if per_request else "")
        lines = [head, "|---|---|---|" + ("---|" if per_request else "")]
        for name, count in counts.most_common(limit):
            share = count / total
            cells = f"| {name} | {count} | {share:.1%} |"
            lines.append(cells + (f" {share * per_request:.3f} |" if per_request else ""))
        return lines

    every = sum(states.values())
    out = [
        f"{every} samples of all threads, {total} of them on CPU"
        + (f"; {per_request:.3f} ms CPU per request in all" if per_request else ""),
        "",
        "| thread state | samples | share of all samples |",
        "|---|---|---|",
        *(f"| {name} | {count} | {count / every:.1%} |" for name, count in states.most_common()),
        "",
    ]
    out += table("on CPU, by thread", threads, 5)
    out += ["", *table("on CPU, where the time is spent (innermost matching frame)", buckets, 20)]
    out += ["", *table("AI Hub function (inclusive)", inclusive, 25)]
    return "\n".join(out)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    requests = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    cpu = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    path = Path(sys.argv[1])
    text = gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" else path.read_text()
    print(summarize(text, requests, cpu))
