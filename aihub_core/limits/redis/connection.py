"""The Redis connection of shared limits: how it is opened, and what its failure looks like."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from aihub_core.errors import ConfigError, ServiceUnavailableError

log = logging.getLogger("aihub.limits")

# What a lost Redis looks like from redis-py: its own errors, or the socket's.
REDIS_ERRORS = (RedisError, OSError)
# SET ... GET, used by the heartbeat.
MIN_REDIS_VERSION = (6, 2)
# Connections per process: a command holds one only for its round trip, so a few dozen carry
# tens of thousands of admissions a second; more callers wait for one (up to the timeout).
MAX_CONNECTIONS = 64


def limiter_unavailable() -> ServiceUnavailableError:
    """The answer while the shared counters cannot be reached: nothing is admitted unchecked."""
    return ServiceUnavailableError(
        "Limits cannot be checked: the shared rate limiter (Redis) is unreachable",
        code="limiter_unavailable",
        suggestion="Retry in a few seconds",
    )


async def pause_after_failure(failures: int, err: Exception, what: str) -> None:
    """For a background task's retry loop, inside its `except`: log the first failure of a run (a
    lost Redis as a warning, anything else with its traceback), then wait longer each time, to 1 s."""
    if failures == 1 and isinstance(err, REDIS_ERRORS):
        log.warning("shared limits: %s: Redis unreachable (%s); retrying", what, err)
    elif failures == 1:
        log.exception("shared limits: %s failed; retrying", what)
    await asyncio.sleep(min(1.0, 0.05 * 2**failures))


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{parts.username or ''}:***@{host}").geturl()


async def connect(url: str, command_timeout: float) -> Redis:
    """A client for `url` that has answered, or a ConfigError saying what is wrong.

    `command_timeout` bounds every command (and the wait for a pooled connection): a Redis that stops
    answering fails calls within it instead of holding them."""
    try:
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=MAX_CONNECTIONS,
            timeout=command_timeout,
            socket_timeout=command_timeout,
            socket_connect_timeout=command_timeout,
            # One immediate retry covers a pooled connection that a Redis restart closed.
            retry=Retry(NoBackoff(), 1),
        )
    except ValueError as err:
        raise ConfigError(f"AIHUB_REDIS_URL is not a Redis URL ({err}): {redacted(url)}") from None
    client = Redis.from_pool(pool)
    try:
        info = await client.info("server")
    except REDIS_ERRORS as err:
        await client.aclose()
        raise ConfigError(f"AIHUB_REDIS_URL: cannot reach Redis at {redacted(url)}: {err}") from None
    version = str(info.get("redis_version", "0"))
    if tuple(int(x) for x in version.split(".")[:2]) < MIN_REDIS_VERSION:
        await client.aclose()
        raise ConfigError(f"AIHUB_REDIS_URL: Redis {version} is too old; shared limits need 6.2 or later")
    return client
