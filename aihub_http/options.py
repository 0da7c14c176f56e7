"""How the shim guards itself: the settings `create_app` takes (the CLI reads them from the
environment; the defaults are what a test or an embedding gets)."""

from __future__ import annotations

from dataclasses import dataclass, field

# Bodies the whole shim may hold at once: one chat at its largest, with room for smaller ones.
DEFAULT_MAX_BODY_BYTES_IN_FLIGHT = 64 * 1024 * 1024
DEFAULT_BODY_TIMEOUT = 30.0


@dataclass(frozen=True)
class ShimOptions:
    """The shim's own limits and credentials.

    `metrics_token`: when set, `GET /metrics` answers only `Authorization: Bearer <token>`.
    `max_body_bytes_in_flight`: the bytes of request bodies held at once, over all requests; a
    body that would not fit is a 503 `server_busy` (each route also bounds its own bodies).
    `body_timeout`: seconds a request body may go without a byte arriving (then a 408).
    """

    metrics_token: str | None = field(default=None, repr=False)
    max_body_bytes_in_flight: int = DEFAULT_MAX_BODY_BYTES_IN_FLIGHT
    body_timeout: float = DEFAULT_BODY_TIMEOUT
