"""How the shim guards itself: the settings `create_app` takes (the CLI reads them from the
environment; the defaults are what a test or an embedding gets)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ShimOptions:
    """The shim's own limits and credentials.

    `metrics_token`: when set, `GET /metrics` answers only `Authorization: Bearer <token>`.
    """

    metrics_token: str | None = None
