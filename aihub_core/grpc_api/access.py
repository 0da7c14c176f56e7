"""What credential each RPC takes: nothing, the JWT, or an API key with a permission."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Credential = Literal["none", "jwt", "api_key"]


@dataclass(frozen=True)
class Access:
    """An RPC's requirement; `permission` applies to API keys.

    `deferred`: the handler makes the admission decision itself (chat, once it knows the
    token estimate); the gate then only authenticates.
    """

    credential: Credential
    permission: str | None = None
    deferred: bool = False


PUBLIC = Access("none")
JWT = Access("jwt")


def api_key(permission: str, *, deferred: bool = False) -> Access:
    """An API key holding `permission` (chat, models or usage)."""
    return Access("api_key", permission, deferred)
