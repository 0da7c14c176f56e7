"""What credential each RPC takes (nothing, the JWT, an API key with a permission, or either of
the last two), and what it asks of the limits: a model call (chat, completions, embeddings) is
admitted by its use case against the plan's limits; every other authenticated call is a read,
counted against the read limit of its key (or its user, with a JWT) alone: never the plan's
limits or the monthly quota."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aihub_core.limits.rules import Demand

# `api_key_or_jwt`: the account's own reports (models, services, usage, quota), which the web
# console reads with the login token it holds and a program reads with an API key.
Credential = Literal["none", "jwt", "api_key", "api_key_or_jwt"]
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


def api_key_or_jwt(permission: str, demand: Demand | None = READ) -> Access:
    """An API key holding `permission`, or the login token (whose caller holds every
    permission), admitted with `demand`: a read of the key's, or the user's, read limit."""
    return Access("api_key_or_jwt", permission, demand)
