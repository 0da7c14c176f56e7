"""The Redis connection of shared limits: one Redis server or a Redis Cluster, how it is opened,
and what its failure looks like."""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.crc import key_slot
from redis.exceptions import RedisClusterException, RedisError

from aihub_core.errors import ConfigError, ServiceUnavailableError

log = logging.getLogger("aihub.limits")

# What a lost Redis looks like from redis-py: its own errors, or the socket's. (The cluster
# client's own exception, raised for instance when no node answers, is not a RedisError.)
REDIS_ERRORS = (RedisError, RedisClusterException, OSError)
# Scripts that read the Redis clock (TIME) before writing: 6.2 replicates their effects only.
MIN_REDIS_VERSION = (6, 2)
# Connections per process (per node of a cluster): a command holds one only for its round trip,
# and admissions travel in one pipeline at a time (pipeline.py), so a few carry tens of thousands
# of admissions a second; on one server, more callers wait for one (up to the timeout).
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


@dataclass(frozen=True)
class SharedRedis:
    """The client of shared limits, on one Redis server or a Redis Cluster (`cluster`)."""

    client: Redis | RedisCluster
    url: str
    command_timeout: float

    @property
    def cluster(self) -> bool:
        return isinstance(self.client, RedisCluster)

    def shard(self, key: str) -> int:
        """Which keys one script call may take together: those of one hash slot in a cluster
        (the slot's number), any on one server (always 0)."""
        return key_slot(key.encode()) if self.cluster else 0

    def pubsub(self) -> PubSub:
        """A new pub/sub connection: on the server, or on a node of the cluster picked at random
        (a PUBLISH on any node reaches the subscribers of every node)."""
        if not isinstance(self.client, RedisCluster):
            return self.client.pubsub(ignore_subscribe_messages=True)
        node = random.choice(self.client.get_nodes())
        parts = urlsplit(self.url)
        user, at, _ = parts.netloc.rpartition("@")
        host = f"[{node.host}]" if ":" in node.host else node.host
        on_node = parts._replace(netloc=f"{user}{at}{host}:{node.port}").geturl()
        client = Redis.from_url(on_node, **self._timeouts())
        return client.pubsub(ignore_subscribe_messages=True)

    async def aclose(self) -> None:
        """Close every connection."""
        await self.client.aclose()

    def _timeouts(self) -> dict[str, Any]:
        timeout = self.command_timeout
        return {"socket_timeout": timeout, "socket_connect_timeout": timeout}


async def connect(url: str, command_timeout: float) -> SharedRedis:
    """A client for `url` that has answered, or a ConfigError saying what is wrong. A Redis Cluster
    is recognised by what its node answers (INFO's `cluster_enabled`); the client then finds the
    other nodes itself.

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
        server = await client.info("server")
        clustered = int((await client.info("cluster")).get("cluster_enabled", 0)) == 1
    except REDIS_ERRORS as err:
        await client.aclose()
        raise ConfigError(f"AIHUB_REDIS_URL: cannot reach Redis at {redacted(url)}: {err}") from None
    version = str(server.get("redis_version", "0"))
    if tuple(int(x) for x in version.split(".")[:2]) < MIN_REDIS_VERSION:
        await client.aclose()
        raise ConfigError(f"AIHUB_REDIS_URL: Redis {version} is too old; shared limits need 6.2 or later")
    if not clustered:
        return SharedRedis(client, url, command_timeout)
    await client.aclose()
    return SharedRedis(await _connect_cluster(url, command_timeout), url, command_timeout)


async def _connect_cluster(url: str, command_timeout: float) -> RedisCluster:
    try:
        cluster = RedisCluster.from_url(
            url,
            max_connections=MAX_CONNECTIONS,
            socket_timeout=command_timeout,
            socket_connect_timeout=command_timeout,
            # As on one server: one retry (after the client has read the cluster's layout again).
            retry=Retry(NoBackoff(), 1),
        )
    except (ValueError, RedisClusterException) as err:
        raise ConfigError(f"AIHUB_REDIS_URL: no Redis Cluster URL ({err}): {redacted(url)}") from None
    try:
        await cluster.initialize()
    except REDIS_ERRORS as err:
        await cluster.aclose()
        raise ConfigError(f"AIHUB_REDIS_URL: the Redis Cluster at {redacted(url)} failed: {err}") from None
    return cluster
