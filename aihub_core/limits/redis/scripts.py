"""The Redis side of shared limits: key names, and the Lua scripts that check and count atomically.

Keys (prefix `aihub:` by default; W is the minute window's number, epoch seconds // 60). Every key
of a user carries the user's hash tag `{u:ID}`, so a Redis Cluster keeps them in one slot and
each script call, which touches one user's keys (or, on a single Redis, any users'), runs there:

    {p}{u:ID}:req:{W}               requests this minute, per user    expires 120 s after its start
    {p}{u:ID}:req:{W}:key:{key}     requests this minute, per API key (only keys with their own
                                    limit; a key belongs to one user and carries that user's tag)
    {p}{u:ID}:tok:{W}               tokens held this minute
    {p}{u:ID}:flight                a sorted set: one member `{instance}:{n}` per concurrent call
                                    in flight, scored by the end of its lease (Redis's clock, ms)
    {p}{u:ID}:quota:{YYYY-MM}       calls counted against the monthly quota; expires a day after
                                    the month
    {p}{u:ID}:budget:{C}:held      a budget's worst cases held by calls in flight (pico-USD), and
    {p}{u:ID}:budget:{C}:spent     its settled spend, from the ledger's sum at the first admission
                                    of the period; C is the budget's counter in one period
                                    (`spend.counter_name`: `key:ID@d2026-12-03`); both expire a
                                    day after the period
    {p}changes:{ID}                 (pub/sub channel, not a key) the user's figures changed

A member of a `flight` set counts while its lease runs: the process that holds the call renews
the leases of all its calls every third of the lease (`renew.lua`), so a crashed process's calls
stop counting when their lease ends, and the admission script drops them.

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
# A flight set lives this long after its last admission or renewal (calls never run that long).
FLIGHT_TTL_SECONDS = 24 * 3600

# What admit.lua answers first; then the counters it saw before committing anything:
# user requests, key requests, tokens, live calls in flight, monthly calls.
ADMITTED, REFUSED_LIMIT, REFUSED_QUOTA, NEEDS_QUOTA, REFUSED_BUDGET = 0, 1, 2, 3, 4


def _script(name: str) -> str:
    here = resources.files(__package__)
    return here.joinpath("common.lua").read_text() + here.joinpath(f"{name}.lua").read_text()


ADMIT = _script("admit")
RELEASE = _script("release")
RENEW = _script("renew")
BUDGET = _script("budget")


def script_argument(values: Mapping[str, Any]) -> str:
    """The named values a script reads from ARGV[1] (see the head of each `.lua` file)."""
    # json.dumps's defaults: its cached encoder is twice as fast as one with compact separators.
    return json.dumps(values)


@dataclass(frozen=True)
class Keys:
    """The key and channel names under one prefix."""

    prefix: str

    def user(self, user_id: str) -> str:
        """The start of every key of the user: the prefix and the user's hash tag."""
        return f"{self.prefix}{{u:{user_id}}}:"

    def requests(self, window: int, user_id: str, key_id: str | None = None) -> str:
        """A request counter of one minute: the user's, or (`key_id`) one of the user's keys'."""
        counter = f"{self.user(user_id)}req:{window}"
        return counter if key_id is None else f"{counter}:key:{key_id}"

    def reads(self, window: int, user_id: str, key_id: str | None = None) -> str:
        """A read counter of one minute: one of the user's keys', or (`key_id` None) the user's
        own, for reads with a login token."""
        counter = f"{self.user(user_id)}read:{window}"
        return counter if key_id is None else f"{counter}:key:{key_id}"

    def tokens(self, window: int, user_id: str) -> str:
        return f"{self.user(user_id)}tok:{window}"

    def flight(self, user_id: str) -> str:
        return f"{self.user(user_id)}flight"

    def quota(self, month: str, user_id: str) -> str:
        return f"{self.user(user_id)}quota:{month}"

    def budget(self, user_id: str, counter: str) -> tuple[str, str]:
        """A budget's counters in one period: the worst cases held, and the spend settled."""
        base = f"{self.user(user_id)}budget:{counter}:"
        return base + "held", base + "spent"

    @property
    def channel_prefix(self) -> str:
        return f"{self.prefix}changes:"

    def channel(self, user_id: str) -> str:
        return f"{self.channel_prefix}{user_id}"
