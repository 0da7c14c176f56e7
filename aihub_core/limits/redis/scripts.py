"""The Redis side of shared limits: key names, and the Lua scripts that check and count atomically.

Keys (prefix `aihub:` by default; W is the minute window's number, epoch seconds // 60):

    {p}req:{W}:user:{user}     requests this minute, per user        expires 120 s after its start
    {p}req:{W}:key:{key}       requests this minute, per API key     (only keys with their own limit)
    {p}tok:{W}:{user}          tokens held this minute, per user
    {p}flight:{user}           a set: one member `{instance}:{n}` per concurrent call in flight
    {p}quota:{YYYY-MM}:{user}  calls counted against the monthly quota, per user; expires a day
                               after the month
    {p}instance:{instance}     a gateway process's heartbeat         expires unless refreshed
    {p}changes:{user}          (pub/sub channel) the user's figures changed

A member of a `flight` set counts only while its instance's heartbeat key exists: the admission
script drops the members of instances whose heartbeat has expired, so a crashed process's slots
free themselves. The scripts read those heartbeat keys by name, so they need one Redis server
(or a primary): Redis Cluster is not supported.

The scripts are the `.lua` files beside this module (`common.lua` holds the functions they share),
read once when this module is imported. Each takes its keys as KEYS and everything else as one
JSON object in ARGV[1], read by name (`script_argument`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

# A minute's counters outlive their minute, whatever the skew between the processes' clocks.
WINDOW_TTL_SECONDS = 120
# A flight set lives this long after its last admission (calls never run that long).
FLIGHT_TTL_SECONDS = 24 * 3600

# What admit.lua answers first; then the counters it saw before committing anything:
# user requests, key requests, tokens, live calls in flight, monthly calls.
ADMITTED, REFUSED_LIMIT, REFUSED_QUOTA, NEEDS_QUOTA = 0, 1, 2, 3


def _script(name: str) -> str:
    here = resources.files(__package__)
    return here.joinpath("common.lua").read_text() + here.joinpath(f"{name}.lua").read_text()


ADMIT = _script("admit")
RELEASE = _script("release")
BUDGET = _script("budget")


def script_argument(values: Mapping[str, Any]) -> str:
    """The named values a script reads from ARGV[1] (see the head of each `.lua` file)."""
    # json.dumps's defaults: its cached encoder is twice as fast as one with compact separators.
    return json.dumps(values)


@dataclass(frozen=True)
class Keys:
    """The key and channel names under one prefix."""

    prefix: str

    def requests(self, window: int, scope: str) -> str:
        """A request counter of one minute; `scope` is `user:ID` or `key:ID`."""
        return f"{self.prefix}req:{window}:{scope}"

    def tokens(self, window: int, user_id: str) -> str:
        return f"{self.prefix}tok:{window}:{user_id}"

    def flight(self, user_id: str) -> str:
        return f"{self.prefix}flight:{user_id}"

    def quota(self, month: str, user_id: str) -> str:
        return f"{self.prefix}quota:{month}:{user_id}"

    @property
    def instance_prefix(self) -> str:
        return f"{self.prefix}instance:"

    def instance(self, instance_id: str) -> str:
        return f"{self.instance_prefix}{instance_id}"

    @property
    def channel_prefix(self) -> str:
        return f"{self.prefix}changes:"

    def channel(self, user_id: str) -> str:
        return f"{self.channel_prefix}{user_id}"
