"""Who is on the other end of a call: the client's address, for what is counted per address
(failed logins).

A call comes from its peer: a gRPC client, or the REST shim. A proxy in between (the shim, a
load balancer) names the address it got the request from by appending it to `x-forwarded-for`,
so the list reads, left to right, from the client to the last proxy. Only proxies we trust may
say so: the shim running in this process, and the addresses of `AIHUB_TRUSTED_PROXIES`. The
client is then the right-most address of the list that is not a trusted proxy: what is left of
it was written by the client itself, and may be anything.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import unquote

import grpc

FORWARDED_FOR = "x-forwarded-for"
# What an in-process call's context reports as its peer (`inprocess.context.LocalContext`).
_IN_PROCESS_PEER = "local:"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ClientAddresses:
    """Finds a call's client address, trusting what the given proxies forward."""

    def __init__(self, trusted_proxies: Iterable[str] = ()) -> None:
        self._trusted: tuple[Network, ...] = tuple(ipaddress.ip_network(n) for n in trusted_proxies)

    def of(self, context: grpc.aio.ServicerContext[object, object]) -> str:
        """The client's address (or, for a peer without one, the peer's description)."""
        peer = context.peer() or ""
        forwarded = [
            value for key, value in context.invocation_metadata() or () if key.lower() == FORWARDED_FOR
        ]
        if peer == _IN_PROCESS_PEER:
            peer_address = _IN_PROCESS_PEER  # the shim of this process: trusted, by construction
        else:
            peer_address = _address_of_peer(peer)
            if not self._is_trusted(peer_address):
                return peer_address
        hops = [hop.strip() for value in forwarded if isinstance(value, str) for hop in value.split(",")]
        for hop in reversed(hops):
            if hop and not self._is_trusted(hop):
                return hop
        return hops[0] if hops and hops[0] else peer_address

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._trusted)


def _address_of_peer(peer: str) -> str:
    """`ipv4:10.0.0.1:5000` -> `10.0.0.1`, `ipv6:[::1]:5000` (brackets maybe %-encoded) -> `::1`;
    anything else (`unix:...`) as it is."""
    kind, _, rest = unquote(peer).partition(":")
    if kind == "ipv4":
        return rest.rpartition(":")[0]
    if kind == "ipv6":
        return rest.rpartition(":")[0].strip("[]")
    return peer
