"""What credential each RPC takes (nothing, the JWT, or an API key with a permission), and what
it asks of the limits: a model call (chat, completions, embeddings) is admitted by its use case
against the plan's limits; every other authenticated call is a read, counted against the read
limit of its key (or its user, with a JWT) alone: never the plan's limits or the monthly quota."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aihub_core.limits.rules import Demand

Credential = Literal["none", "jwt", "api_key"]
# One read of the minute: what an authenticated RPC asks unless it says otherwise.
READ = Demand(read=True)


@dataclass(frozen=True)
class Access:
    """An RPC's requirement; `permission` and `demand` apply to API keys.

    `demand`: what the gate admits before the handler runs; None when the use case admits the
    call itself (chat, once it knows its token estimate), and the gate only authenticates.
    """

    credential: Credential
    permission: str | None = None
    demand: Demand | None = READ


PUBLIC = Access("none")
JWT = Access("jwt")


def api_key(permission: str, demand: Demand | None = READ) -> Access:
    """An API key holding `permission` (chat, models or usage), admitted with `demand`."""
    return Access("api_key", permission, demand)
