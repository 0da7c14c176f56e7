"""Failed logins, throttled per client address and per account, with a bound on every refusal.

The policy (`LoginPolicy`, windows of 15 minutes from a key's first failure):

- an address: 20 failed logins, whatever the accounts; then its logins are refused until its
  window ends. A success never resets it (an attacker with an account of their own could).
- an account from an address: 5 failed logins; then that pair is refused until its window ends.
  A success from the pair resets the pair, and no other pair or address.
- an account from every address: 50 failed logins; then the account is refused to addresses that
  have not logged into it within 30 days, until the window ends. The addresses its owner uses
  stay open, so a guesser can never lock the owner out of them, and a new address is refused
  for at most the rest of the window after the guessing stops.

A refused login is a 429 `too_many_failed_logins` with `Retry-After` (the end of the longest
window that refuses it), answered before the password is checked, and is not counted itself.
The counters live in this process (`InProcessLoginCounters`) or in Redis
(`redis.logins.RedisLoginCounters`) when the limits are shared, so every worker sees them.
IPv6 addresses count by their /64 network, which one client usually holds whole.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from aihub_core.errors import RateLimitError

# Each window as (count, seconds left); (0, 0.0) when the key has none running.
Windows = list[tuple[int, float]]


@dataclass(frozen=True)
class LoginPolicy:
    """How many failures each key may have per window, and how long an address stays familiar."""

    window_seconds: float = 15 * 60
    per_address: int = 20
    per_account_address: int = 5
    per_account: int = 50
    familiar_seconds: float = 30 * 86400


class LoginCounters(Protocol):
    """Counters with a window each, that start at their first count and vanish when it ends."""

    async def windows(self, keys: Sequence[str]) -> Windows:
        """Each key's count and the seconds left of its window."""
        ...

    async def count(self, keys: Sequence[str], window_seconds: float) -> None:
        """Add one to each key, starting its window if it has none."""
        ...

    async def reset(self, key: str) -> None:
        """End the key's window."""
        ...

    async def mark(self, key: str, seconds: float) -> None:
        """Set the key to 1 for `seconds`, whatever it held."""
        ...


@dataclass(frozen=True)
class _Keys:
    address: str
    pair: str
    account: str
    familiar: str


class LoginThrottle:
    """Checks a login before its password is verified, and counts how it ended."""

    def __init__(self, counters: LoginCounters, policy: LoginPolicy | None = None) -> None:
        self._counters = counters
        self.policy = policy or LoginPolicy()

    async def check(self, email: str, address: str) -> None:
        """Raise the 429 if this account or address may not try now."""
        keys = _keys(email, address)
        policy = self.policy
        (
            (by_address, address_left),
            (by_pair, pair_left),
            (by_account, account_left),
            (familiar, _),
        ) = await self._counters.windows([keys.address, keys.pair, keys.account, keys.familiar])
        refusals = []
        if by_address >= policy.per_address:
            refusals.append(("address", address_left))
        if by_pair >= policy.per_account_address:
            refusals.append(("account_address", pair_left))
        if by_account >= policy.per_account and not familiar:
            refusals.append(("account", account_left))
        if refusals:
            scope, wait = max(refusals, key=lambda refusal: refusal[1])
            raise RateLimitError(
                f"Too many failed logins {_SCOPE_WORDS[scope]}; try again in {math.ceil(wait)} seconds",
                code="too_many_failed_logins",
                retry_after=wait,
                details={"scope": scope},
            )

    async def failed(self, email: str, address: str) -> None:
        """Count a wrong password (or an unknown email) against the address, the pair and the account."""
        keys = _keys(email, address)
        await self._counters.count([keys.address, keys.pair, keys.account], self.policy.window_seconds)

    async def succeeded(self, email: str, address: str) -> None:
        """Reset this pair's failures and remember the address as the account's."""
        keys = _keys(email, address)
        await self._counters.reset(keys.pair)
        await self._counters.mark(keys.familiar, self.policy.familiar_seconds)


_SCOPE_WORDS = {
    "address": "from this address",
    "account_address": "for this account from this address",
    "account": "for this account",
}


def client_network(address: str) -> str:
    """What an address counts as: itself, or its /64 network for IPv6 (an IPv4 address mapped
    into IPv6 counts as the IPv4 address)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address  # not an IP address (a Unix socket peer): itself
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def _keys(email: str, address: str) -> _Keys:
    # Emails go into key names hashed: the counters (in Redis too) never hold an address book.
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    network = client_network(address)
    pair = hashlib.sha256(f"{account}|{network}".encode()).hexdigest()[:32]
    return _Keys(f"address:{network}", f"pair:{pair}", f"account:{account}", f"familiar:{pair}")


class InProcessLoginCounters:
    """`LoginCounters` in this process; `clock` is injectable for tests."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: dict[str, tuple[int, float]] = {}  # key -> (count, when its window ends)
        self._prune_at = 1024

    async def windows(self, keys: Sequence[str]) -> Windows:
        now = self._clock()
        found: Windows = []
        for key in keys:
            count, ends = self._entries.get(key, (0, now))
            found.append((count, ends - now) if ends > now else (0, 0.0))
        return found

    async def count(self, keys: Sequence[str], window_seconds: float) -> None:
        now = self._clock()
        for key in keys:
            count, ends = self._entries.get(key, (0, now))
            self._entries[key] = (count + 1, ends) if ends > now else (1, now + window_seconds)
        self._prune(now)

    async def reset(self, key: str) -> None:
        self._entries.pop(key, None)

    async def mark(self, key: str, seconds: float) -> None:
        self._entries[key] = (1, self._clock() + seconds)
        self._prune(self._clock())

    def _prune(self, now: float) -> None:
        # Ended windows go when the table has doubled since the last sweep: O(1) per count, amortized.
        if len(self._entries) < self._prune_at:
            return
        self._entries = {key: entry for key, entry in self._entries.items() if entry[1] > now}
        self._prune_at = max(1024, 2 * len(self._entries))
