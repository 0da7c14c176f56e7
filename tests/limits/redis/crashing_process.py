"""A gateway process that takes concurrency slots and is then killed by the test (SIGKILL):
`python -m tests.limits.redis.crashing_process URL PREFIX LEASE SLOTS`."""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import datetime

from aihub_core.identity import Caller
from aihub_core.limits.plans import BUILTIN_PLANS
from aihub_core.limits.redis.admitter import RedisAdmitter
from aihub_core.limits.rules import Demand


class NoLedger:
    async def count_requests(self, user_id: str, since: datetime) -> int:
        return 0

    async def key_spent(self, key_id: str, since: datetime) -> int:
        return 0

    async def user_spent(self, user_id: str, since: datetime) -> int:
        return 0


async def main(url: str, prefix: str, lease: float, slots: int) -> None:
    admitter = await RedisAdmitter.start(url, NoLedger(), time.time, prefix=prefix, lease=lease)
    for _ in range(slots):
        await admitter.admit(Caller("u1", BUILTIN_PLANS["free"]), Demand(concurrent=True, counts_quota=True))
    print(admitter.instance_id, flush=True)
    await asyncio.Event().wait()  # holds the slots until killed


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])))
