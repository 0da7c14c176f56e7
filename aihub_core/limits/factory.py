"""Which Admitter a core runs: in-process limits, or limits shared through Redis."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AsyncExitStack

from aihub_core.limits.admitter import Admitter, RequestCounter
from aihub_core.limits.in_process import InProcessAdmitter
from aihub_core.limits.logins import InProcessLoginCounters, LoginPolicy, LoginThrottle
from aihub_core.limits.rules import DEFAULT_READ_LIMIT

log = logging.getLogger("aihub.limits")


async def start_admitter(
    redis_url: str | None,
    ledger: RequestCounter,
    stack: AsyncExitStack,
    *,
    prefix: str,
    clock: Callable[[], float] = time.time,
    read_limit: int = DEFAULT_READ_LIMIT,
) -> Admitter:
    """Limits in this process, or shared through Redis when `redis_url` is set (docs/limits.md);
    a Redis admitter is stopped with `stack`. A bad URL or an unreachable Redis is a ConfigError."""
    if redis_url is None:
        return InProcessAdmitter(ledger, clock, read_limit)
    # Imported here: redis-py costs a tenth of a second of start-up that in-process limits skip.
    from aihub_core.limits.redis.admitter import RedisAdmitter
    from aihub_core.limits.redis.connection import redacted

    shared = await RedisAdmitter.start(redis_url, ledger, clock, prefix=prefix, read_limit=read_limit)
    stack.push_async_callback(shared.stop)
    kind = "the Redis Cluster" if shared.cluster else "Redis"
    log.info(
        "limits are shared through %s at %s (instance %s)", kind, redacted(redis_url), shared.instance_id
    )
    return shared


async def start_login_throttle(
    redis_url: str | None, stack: AsyncExitStack, *, prefix: str, policy: LoginPolicy | None = None
) -> LoginThrottle:
    """Failed logins counted in this process, or in Redis when `redis_url` is set (every worker then
    sees the same counts); a Redis client is closed with `stack`."""
    if redis_url is None:
        return LoginThrottle(InProcessLoginCounters(), policy)
    from aihub_core.limits.redis.connection import connect
    from aihub_core.limits.redis.logins import RedisLoginCounters

    shared = await connect(redis_url, command_timeout=2.0)
    stack.push_async_callback(shared.aclose)
    return LoginThrottle(RedisLoginCounters(shared.client, prefix), policy)
