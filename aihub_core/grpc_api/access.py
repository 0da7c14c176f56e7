"""What credential each RPC takes: nothing, the JWT, or an API key with a permission."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Credential = Literal["none", "jwt", "api_key"]


@dataclass(frozen=True)
class Access:
    """An RPC's requirement; `permission` applies to API keys."""

    credential: Credential
    permission: str | None = None


PUBLIC = Access("none")
JWT = Access("jwt")


def api_key(permission: str) -> Access:
    """An API key holding `permission` (chat, models or usage)."""
    return Access("api_key", permission)
