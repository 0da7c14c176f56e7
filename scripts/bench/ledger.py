"""The ledger under load: concurrent calls each reserve and then settle (what every chat call writes),
through the Store API, on SQLite and on PostgreSQL, with the durability the gateway uses.

    .venv/bin/python scripts/bench/ledger.py                  # both backends, 32 callers x 200 calls
    .venv/bin/python scripts/bench/ledger.py --backend postgres --callers 64 --calls 300 --deferred

Reports calls/s (one reservation and one settlement each), how many ledger writes shared one
PostgreSQL commit (group commit), the gateway's CPU per call and, on PostgreSQL, the server's CPU
per call (its backends' utime+stime from /proc, 10 ms ticks: a coarse figure). PostgreSQL uses the
schema `aihub_bench_ledger` in AIHUB_TEST_POSTGRES_URL's database, dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import asyncpg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from aihub_core.store import open_store  # noqa: E402
from aihub_core.store.base import (  # noqa: E402
    Durability,
    StoreOptions,
    UsageRecord,
    UsageStatus,
    UserRecord,
)
from aihub_core.store.postgres._ledger import LedgerWrite, LedgerWriter  # noqa: E402
from tests.postgres import schema_url, server_url  # noqa: E402

UsageSource = Literal["provider", "estimated", "none"]
SCHEMA = "aihub_bench_ledger"
APP = "aihub-bench-ledger"


def record(request_id: str, status: UsageStatus, at: datetime) -> UsageRecord:
    settled = status == "ok"
    cost = 140_000_000 if settled else 0
    source: UsageSource = "provider" if settled else "none"
    return UsageRecord(
        request_id, "usr_bench", "key_1", "openrouter", "x-ai/grok-beta", 10, 60, cost, status, source, at
    )


def server_cpu_seconds(pids: Sequence[int]) -> float:
    """utime + stime of the given processes, in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


async def backend_pids() -> list[int]:
    conn = await asyncpg.connect(server_url())
    try:
        rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE application_name = $1", APP)
    finally:
        await conn.close()
    return [row["pid"] for row in rows]


async def run(backend: str, callers: int, calls: int, durability: Durability) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="aihub-bench-ledger-"))
    if backend == "postgres":
        conn = await asyncpg.connect(server_url())
        await conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}")
        await conn.close()
        url = f"{schema_url(SCHEMA)}&application_name={APP}"
    else:
        url = f"sqlite:///{work / 'aihub.db'}"
    batches: list[int] = []
    original = LedgerWriter._transaction

    async def counted(self: LedgerWriter, writes: Sequence[LedgerWrite]) -> None:
        batches.append(len(writes))
        await original(self, writes)

    LedgerWriter._transaction = counted  # type: ignore[method-assign]
    store = open_store(
        url, StoreOptions(durability=durability, pool_size=max(4, callers // 4), keep_lease=False)
    )
    await store.open()
    try:
        now = datetime.now(UTC)
        await store.create_user(UserRecord("usr_bench", "bench@example.com", "h", "free", now))

        async def caller(n: int) -> None:
            for i in range(calls):
                request_id = f"req_{n}_{i}"
                store.queue_reservation(record(request_id, "pending", now))
                await store.record_usage(record(request_id, "ok", now))

        await caller(-1)  # warm up: connections, prepared statements
        batches.clear()
        pids = await backend_pids() if backend == "postgres" else []
        server_before, cpu_before, started = (
            server_cpu_seconds(pids),
            time.process_time(),
            time.perf_counter(),
        )
        await asyncio.gather(*(caller(n) for n in range(callers)))
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu_before
        server = server_cpu_seconds(pids) - server_before
        [day] = await store.daily_usage("usr_bench", now.date(), now.date())
        assert day.requests == callers * calls + calls  # every settlement landed, once
    finally:
        await store.close()
        LedgerWriter._transaction = original  # type: ignore[method-assign]
        shutil.rmtree(work, ignore_errors=True)
        if backend == "postgres":
            conn = await asyncpg.connect(server_url())
            await conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            await conn.close()
    total = callers * calls
    return {
        "backend": backend,
        "durability": durability.value,
        "calls": total,
        "calls_per_s": round(total / wall),
        "writes_per_commit": round(sum(batches) / len(batches), 1) if batches else None,
        "gateway_cpu_us_per_call": round(cpu / total * 1e6),
        "server_cpu_us_per_call": round(server / total * 1e6) if pids else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--callers", type=int, default=32)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument(
        "--deferred", action="store_true", help="Durability.DEFERRED (AIHUB_LEDGER_SYNC=normal)"
    )
    args = parser.parse_args()
    durability = Durability.DEFERRED if args.deferred else Durability.DURABLE
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    print(
        "| backend | durability | calls | calls/s | ledger writes per PostgreSQL commit "
        "| gateway CPU µs/call | server CPU µs/call |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for backend in backends:
        r = asyncio.run(run(backend, args.callers, args.calls, durability))
        cells = [
            r["backend"],
            r["durability"],
            r["calls"],
            r["calls_per_s"],
            r["writes_per_commit"] or "-",
            r["gateway_cpu_us_per_call"],
            r["server_cpu_us_per_call"] or "-",
        ]
        print("| " + " | ".join(str(c) for c in cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
