"""Which Admitter a core runs: in-process limits, or limits shared through Redis."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AsyncExitStack

from aihub_core.limits.admitter import Admitter, RequestCounter
from aihub_core.limits.in_process import InProcessAdmitter

log = logging.getLogger("aihub.limits")


async def start_admitter(
    redis_url: str | None,
    ledger: RequestCounter,
    stack: AsyncExitStack,
    *,
    prefix: str,
    clock: Callable[[], float] = time.time,
) -> Admitter:
    """Limits in this process, or shared through Redis when `redis_url` is set (docs/limits.md);
    a Redis admitter is stopped with `stack`. A bad URL or an unreachable Redis is a ConfigError."""
    if redis_url is None:
        return InProcessAdmitter(ledger, clock)
    # Imported here: redis-py costs a tenth of a second of start-up that in-process limits skip.
    from aihub_core.limits.redis.admitter import RedisAdmitter
    from aihub_core.limits.redis.connection import redacted

    shared = await RedisAdmitter.start(redis_url, ledger, clock, prefix=prefix)
    stack.push_async_callback(shared.stop)
    kind = "the Redis Cluster" if shared.cluster else "Redis"
    log.info(
        "limits are shared through %s at %s (instance %s)", kind, redacted(redis_url), shared.instance_id
    )
    return shared
