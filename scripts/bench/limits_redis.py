"""The cost of one shared-limits admission plus its release (docs/limits.md, "Cost").

    .venv/bin/python scripts/bench/limits_redis.py [--url redis://127.0.0.1:6379/0] [--calls 2000]

Runs `calls` chat admissions (a slot, tokens, the monthly quota), each released with its tokens
settled, first one at a time and then from 32 tasks at once, on a prefix of its own that it
deletes afterwards. Prints per call: the wall time (one at a time, that is the latency), this
process's CPU time, the round trips to Redis (pipelines sent) and the commands Redis ran.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
from datetime import datetime
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from aihub_core.identity import Caller
from aihub_core.limits.plans import Plan
from aihub_core.limits.redis import pipeline
from aihub_core.limits.redis.admitter import RedisAdmitter
from aihub_core.limits.redis.connection import connect
from aihub_core.limits.rules import Demand

# Every limit on and never reached: each script checks and counts everything.
PLAN = Plan("bench", 10**9, 10**12, 10**6, 10**9)
TASKS = 32


class NoLedger:
    async def count_requests(self, user_id: str, since: datetime) -> int:
        return 0


class RoundTrips:
    """Counts the pipelines the admitter sends (each is one round trip per Redis node)."""

    def __init__(self) -> None:
        self.count = 0
        original = pipeline.ScriptPipeline._pipeline

        async def counted(this: pipeline.ScriptPipeline, batch: list[Any]) -> list[Any]:
            self.count += 1
            return await original(this, batch)

        pipeline.ScriptPipeline._pipeline = counted  # type: ignore[method-assign,assignment]


async def commands(client: Redis | RedisCluster) -> int:
    """Commands Redis has run so far (every node of a cluster; scripts' own calls included)."""
    if isinstance(client, RedisCluster):
        nodes: Any = await client.info("stats", target_nodes=RedisCluster.ALL_NODES)
        return sum(int(info["total_commands_processed"]) for info in nodes.values())
    return int((await client.info("stats"))["total_commands_processed"])


async def phase(admitter: RedisAdmitter, calls: int, tasks: int, users: int) -> tuple[float, float]:
    """Admit and release `calls` calls from `tasks` tasks: (wall seconds, CPU seconds)."""

    async def worker(n: int, share: int) -> None:
        for i in range(share):
            caller = Caller(f"user{(n * share + i) % users}", PLAN)
            grant = await admitter.admit(caller, Demand(100, concurrent=True, counts_quota=True))
            admitter.release(grant, tokens_used=80)

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker(n, calls // tasks) for n in range(tasks)))
    await admitter.flush()
    return time.perf_counter() - wall, time.process_time() - cpu


async def main(url: str, calls: int, users: int) -> None:
    trips = RoundTrips()
    prefix = f"aihub-bench:{secrets.token_hex(4)}:"
    admitter = await RedisAdmitter.start(url, NoLedger(), time.time, prefix=prefix)
    probe = (await connect(url, 2.0)).client  # (a cluster client if the URL is a cluster node's)
    try:
        await phase(admitter, 200, 1, users)  # warm: scripts loaded, quota counters started
        for tasks in (1, TASKS):
            trips.count, before = 0, await commands(probe)
            wall, cpu = await phase(admitter, calls, tasks, users)
            ran = await commands(probe) - before
            print(
                f"{tasks:>2} at once: {wall / calls * 1e6:6.0f} µs wall, {cpu / calls * 1e6:5.0f} µs CPU, "
                f"{trips.count / calls:.2f} round trips, {ran / calls:.1f} Redis commands per call"
            )
    finally:
        await admitter.stop()
        keys = [key async for key in probe.scan_iter(match=f"{prefix}*", count=1000)]
        for key in keys:
            await probe.delete(key)
        await probe.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--users", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.url, args.calls, args.users))
