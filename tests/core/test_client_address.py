"""A call's client address: the peer, or what trusted proxies forward, never what a client claims."""

from __future__ import annotations

from typing import Any

import pytest

from aihub_core.grpc_api.client_address import ClientAddresses


class Context:
    """What `ClientAddresses` reads of a servicer context: the peer and the metadata."""

    def __init__(self, peer: str, forwarded: str | None = None) -> None:
        self._peer = peer
        self._metadata = () if forwarded is None else (("x-forwarded-for", forwarded),)

    def peer(self) -> str:
        return self._peer

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata


def client(peer: str, forwarded: str | None = None, trusted: tuple[str, ...] = ()) -> str:
    context: Any = Context(peer, forwarded)
    return ClientAddresses(trusted).of(context)


@pytest.mark.parametrize(
    ("peer", "address"),
    [
        ("ipv4:192.0.2.7:50123", "192.0.2.7"),
        ("ipv6:[2001:db8::7]:50123", "2001:db8::7"),
        ("ipv6:%5B2001:db8::7%5D:50123", "2001:db8::7"),
        ("unix:/run/aihub.sock", "unix:/run/aihub.sock"),
    ],
)
def test_a_direct_grpc_client_is_its_peer_whatever_it_forwards(peer: str, address: str) -> None:
    assert client(peer) == address
    assert client(peer, "198.51.100.1") == address  # a client cannot name another address


def test_the_shim_in_this_process_is_trusted_to_name_the_client() -> None:
    assert client("local:", "192.0.2.7") == "192.0.2.7"
    # The shim appends the socket's peer: what the client put before it is not believed...
    assert client("local:", "198.51.100.1, 192.0.2.7") == "192.0.2.7"
    # ...unless the peer is a trusted proxy (a load balancer), which names the client before it.
    assert client("local:", "198.51.100.1, 192.0.2.7, 10.0.0.5", trusted=("10.0.0.0/8",)) == "192.0.2.7"
    assert client("local:") == "local:"  # an in-process call that came through no shim


def test_a_trusted_peer_s_forwarded_addresses_are_read_from_the_right() -> None:
    trusted = ("10.0.0.0/8", "2001:db8:f::/48")
    assert client("ipv4:10.1.2.3:5000", "192.0.2.7", trusted) == "192.0.2.7"
    assert client("ipv4:10.1.2.3:5000", "spoofed, 192.0.2.7, 10.9.9.9", trusted) == "192.0.2.7"
    assert client("ipv6:[2001:db8:f::1]:5000", "192.0.2.7", trusted) == "192.0.2.7"
    assert client("ipv4:10.1.2.3:5000", None, trusted) == "10.1.2.3"  # nothing forwarded: the proxy
    assert client("ipv4:10.1.2.3:5000", "10.2.2.2, 10.3.3.3", trusted) == "10.2.2.2"  # all trusted
    assert client("ipv4:192.0.2.50:5000", "10.2.2.2", trusted) == "192.0.2.50"  # an untrusted peer
