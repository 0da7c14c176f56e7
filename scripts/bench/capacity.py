"""What one gateway request costs the shared services, for the capacity model of docs/deploy.md:
Redis commands (INFO commandstats, on the run's private Redis), and PostgreSQL work on the run's
own database (pg_stat_database: transactions and rows), its backends' CPU (/proc of the server's
processes serving that database) and the traffic between the replicas and the server (the
replicas' TCP sockets to it, from `ss -tinp`: bytes each way and the data segments the replicas
sent, about one per round trip: asyncpg writes each statement, or each group of them awaited
together, at once, with Nagle off).

`snapshot()` before and after a phase; `per_request(before, after, requests)` the difference.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import subprocess
from pathlib import Path
from typing import Any

import asyncpg

TICKS = 100  # clock ticks per second on Linux (SC_CLK_TCK)


def _redis_commands(port: int) -> dict[str, int]:
    out = subprocess.run(
        ["redis-cli", "-p", str(port), "INFO", "commandstats"], capture_output=True, text=True, timeout=30
    ).stdout
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"cmdstat_([\w|]+):calls=(\d+)", out)}


def _sockets(pids: set[int], pg_port: int) -> dict[str, int]:
    """Summed over the replicas' connections to the server: bytes each way, data segments sent."""
    out = subprocess.run(
        ["ss", "-tinpH", f"dport = :{pg_port}"], capture_output=True, text=True, timeout=30
    ).stdout
    total = {"bytes_sent": 0, "bytes_received": 0, "data_segs_out": 0}
    for block in re.split(r"\n(?=\S)", out):
        owners = {int(p) for p in re.findall(r"pid=(\d+)", block)}
        if owners & pids:
            for name in total:
                found = re.search(rf"\b{name}:(\d+)", block)
                total[name] += int(found.group(1)) if found else 0
    return total


async def _database(url: str, name: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        stats = await conn.fetchrow(
            "SELECT xact_commit, xact_rollback, tup_returned, tup_fetched, tup_inserted, tup_updated, "
            "tup_deleted FROM pg_stat_database WHERE datname = $1",
            name,
        )
        backends = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name
        )
    finally:
        await conn.close()
    ticks = _cpu_ticks({row["pid"] for row in backends}, None)
    return {**dict(stats or {}), "backend_cpu_ticks": ticks}


def _cpu_ticks(pids: set[int], name: str | None) -> int:
    """utime + stime of those of `pids` whose command is `name` (any, for None)."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{pid}/stat").read_text()
            if name is None or stat[stat.index("(") + 1 : stat.rindex(")")] == name:
                fields = stat.rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])
    return ticks


def snapshot(
    redis_port: int | None, admin_url: str, database: str, pids: set[int], pg_port: int
) -> dict[str, Any]:
    """The counters now (the statistics collector flushes about every second: wait that long
    first). `pids`: the gateway's process tree (replicas and Redis)."""
    return {
        "redis": _redis_commands(redis_port) if redis_port else {},
        "cpu": {"redis": _cpu_ticks(pids, "redis-server")},
        "postgres": asyncio.run(_database(admin_url, database)),
        "sockets": _sockets(pids, pg_port),
    }


def per_request(before: dict[str, Any], after: dict[str, Any], requests: int) -> dict[str, Any]:
    """The differences, per request."""
    n = max(requests, 1)

    def diff(key: str) -> dict[str, float]:
        return {k: round((after[key].get(k, 0) - before[key].get(k, 0)) / n, 3) for k in after[key]}

    redis = {k: v for k, v in diff("redis").items() if v}
    # Calls a client sends (one network round trip each, pipelined); the rest run inside scripts.
    sent = sum(v for k, v in redis.items() if k in ("evalsha", "eval"))
    pg = diff("postgres")
    cpu_ticks = pg.pop("backend_cpu_ticks")
    return {
        "requests": requests,
        "redis_commands": round(sum(redis.values()), 3),
        "redis_script_calls": round(sent, 3),
        "redis_cpu_ms": round(diff("cpu")["redis"] * 1000 / TICKS, 3),
        "redis_by_command": redis,
        "postgres": pg,
        "postgres_backend_cpu_ms": round(cpu_ticks * 1000 / TICKS, 3),
        "postgres_round_trips": diff("sockets")["data_segs_out"],
        "postgres_bytes_to_server": diff("sockets")["bytes_sent"],
        "postgres_bytes_from_server": diff("sockets")["bytes_received"],
    }
