"""How long the gateway waits for an upstream: a value object every adapter and Settings carry."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UpstreamTimeouts:
    """Seconds to wait for an upstream: to connect, for the first byte, between two chunks."""

    connect: float = 10.0
    first_byte: float = 120.0
    idle: float = 60.0
